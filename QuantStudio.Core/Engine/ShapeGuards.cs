using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// Checks made before calling native entry points that abort the whole process on bad shapes
/// instead of throwing (matmul and the ops built on it among them): user input that reaches a
/// layer gets an exception naming the layer and the mismatch.
/// </summary>
public static class ShapeGuards
{
    public static void Dimensions(Tensor input, string layer, params int[] allowed)
    {
        if (!allowed.Contains((int)input.dim()))
            throw new ArgumentException($"{layer} expects a {string.Join(" or ", allowed)}-d input, got shape [{string.Join(", ", input.shape)}]", nameof(input));
    }

    public static void Size(Tensor input, int dim, long expected, string layer, string what)
    {
        var d = dim < 0 ? input.dim() + dim : dim;
        if (input.size((int)d) != expected)
            throw new ArgumentException($"{layer} expects {what} {expected}, got {input.size((int)d)} (input shape [{string.Join(", ", input.shape)}])", nameof(input));
    }

    public static void Positive(long value, string name)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1");
    }
}
