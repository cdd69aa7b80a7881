namespace QuantStudio.Web.Estimation;

/// <summary>How many weights a model has; the model zoo is the authority once it lands.</summary>
public interface IModelParameterCounts
{
    /// <summary>Null when the architecture is unknown.</summary>
    long? Count(string arch, double width = 1.0, double depth = 1.0);
}
