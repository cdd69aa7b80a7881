namespace QuantStudio.Core.Quantization;

/// <summary>Per-bucket min–max scaling on plain arrays: α = max − min (1 when below 1e-10), β = min.</summary>
public static class BucketScaling
{
    public static (float[] Alpha, float[] Beta) MinMax(ReadOnlySpan<float> values, BucketLayout layout)
    {
        var alpha = new float[layout.BucketCount];
        var beta = new float[layout.BucketCount];
        for (var k = 0; k < alpha.Length; k++)
        {
            int start = (int)layout.Start(k), end = (int)layout.End(k);
            float lo = values[start], hi = values[start];
            for (var i = start; i < end; i++)
            {
                lo = values[i] < lo ? values[i] : lo;
                hi = values[i] > hi ? values[i] : hi;
            }
            var a = hi - lo;
            alpha[k] = a < 1e-10f ? 1f : a;
            beta[k] = lo;
        }
        return (alpha, beta);
    }

    /// <summary>(v − β)/α for every element: the values in [0, 1] that points are compared with.</summary>
    public static float[] ScaleDown(ReadOnlySpan<float> values, BucketLayout layout, float[] alpha, float[] beta)
    {
        var scaled = new float[values.Length];
        for (var k = 0; k < alpha.Length; k++)
        {
            for (var i = (int)layout.Start(k); i < layout.End(k); i++)
                scaled[i] = (values[i] - beta[k]) / alpha[k];
        }
        return scaled;
    }
}
