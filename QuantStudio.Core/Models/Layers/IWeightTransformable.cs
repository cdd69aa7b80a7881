using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>
/// A layer whose weight matrices pass through an optional transform on every forward pass. The
/// stored weights stay full precision; the transform's result is what the layer computes with.
/// Quantization-aware training sets a transform that returns a quantized copy through the
/// straight-through idiom, <c>w + (quantize(w) − w).detach()</c>, so the forward pass sees the
/// quantized values while gradients flow to the full-precision weights the optimizer updates.
/// TorchSharp's own layers have no such hook, so the zoo builds its weighted layers from these.
/// </summary>
public interface IWeightTransformable
{
    /// <summary>
    /// Applied to each weight in <see cref="transformable_weights"/> (never to biases) on every forward;
    /// null uses the weights as they are. Its result belongs to the current dispose scope.
    /// </summary>
    Func<Tensor, Tensor>? WeightTransform { get; set; }

    /// <summary>The full-precision weights the transform applies to, by parameter name.</summary>
    IEnumerable<(string name, Tensor weight)> transformable_weights();
}

internal static class WeightTransformExtensions
{
    /// <summary>The tensor a layer computes with: the weight itself, or its transform.</summary>
    public static Tensor Effective(this Func<Tensor, Tensor>? transform, Tensor weight) =>
        transform is null ? weight : transform(weight);
}
