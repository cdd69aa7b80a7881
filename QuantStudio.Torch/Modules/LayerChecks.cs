namespace QuantStudio.Torch.Modules;

/// <summary>Argument checks and initializations shared by the layers.</summary>
internal static class LayerChecks
{
    public static void Positive(long value, string field)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(field, value, $"{field} must be positive");
    }

    public static void NonNegative(long value, string field)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(field, value, $"{field} must be >= 0");
    }

    public static void Probability(double value, string field)
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(field, value, $"{field} must be in [0, 1]");
    }

    /// <summary>A replacement weight must keep the layer's shape, or forward would fail far from the cause.</summary>
    public static Tensor SameShape(Tensor replacement, Tensor current, string field)
    {
        ArgumentNullException.ThrowIfNull(replacement, field);
        return Shape(replacement, current.shape, field);
    }

    public static Tensor Shape(Tensor tensor, long[] shape, string field)
    {
        if (!tensor.shape.SequenceEqual(shape))
            throw new ArgumentException($"{field} must have shape [{string.Join(", ", shape)}], got [{string.Join(", ", tensor.shape)}]", field);
        return tensor;
    }

    /// <summary>Bias U(−1/√fan_in, 1/√fan_in), PyTorch's default for linear and conv layers.</summary>
    public static void UniformFanInBias(Tensor bias, Tensor weight)
    {
        var (fanIn, _) = torch.nn.init.calculate_fan_in_and_fan_out(weight);
        var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        torch.nn.init.uniform_(bias, -bound, bound);
    }
}
