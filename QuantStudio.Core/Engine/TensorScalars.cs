using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// A one-element tensor's value whatever its dtype: TorchSharp's <c>item&lt;T&gt;()</c> requires T to match the
/// dtype exactly (a float32 loss read as double throws).
/// </summary>
public static class TensorScalars
{
    public static double AsDouble(this Tensor t)
    {
        if (t.dtype == ScalarType.Float64)
            return t.item<double>();
        using var d = t.to_type(ScalarType.Float64);
        return d.item<double>();
    }

    public static long AsInt64(this Tensor t)
    {
        if (t.dtype == ScalarType.Int64)
            return t.item<long>();
        using var d = t.to_type(ScalarType.Int64);
        return d.item<long>();
    }
}
