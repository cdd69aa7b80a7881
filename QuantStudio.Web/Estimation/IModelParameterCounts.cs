namespace QuantStudio.Web.Estimation;

/// <summary>How many weights a model has for a dataset (the input shape and class count change the first and last layers).</summary>
public interface IModelParameterCounts
{
    /// <summary>
    /// Null when the architecture is unknown or the multipliers are outside (0, 8]. <paramref name="dataset"/> picks the
    /// input shape; null, an unknown name or a dataset of the other kind (text for an image model) uses the model's
    /// usual input.
    /// </summary>
    long? Count(string arch, double width = 1.0, double depth = 1.0, string? dataset = null);

    /// <summary>
    /// The weights of the model's first and last quantizable layers (conv, linear, embedding, LSTM), which the bucketed
    /// methods leave in full precision unless <c>quantize_first_last</c>; null as for <see cref="Count"/>.
    /// </summary>
    long? FirstLastWeights(string arch, double width = 1.0, double depth = 1.0, string? dataset = null);
}
