namespace QuantStudio.Core.Quantization.Reference;

/// <summary>
/// A plain managed implementation of the bucketed quantizer, written for clarity, against which
/// the fused native kernel is tested. It evaluates the same float expressions in the same order
/// as the kernel, so both agree exactly.
/// </summary>
public static class ReferenceBucketedQuantizer
{
    public sealed record Result(float[] Dequantized, byte[] Codes, float[] Alpha, float[] Beta);

    public static Result Quantize(ReadOnlySpan<float> values, QuantizerSettings settings)
    {
        var layout = BucketLayout.For(values.Length, settings.BucketSize);
        var buckets = (int)layout.BucketCount;
        var result = new Result(new float[values.Length], new byte[values.Length], new float[buckets], new float[buckets]);
        float steps = settings.Steps;
        var uniform = settings.Scheme == QuantizationScheme.Uniform;
        for (var k = 0; k < buckets; k++)
        {
            int start = (int)layout.Start(k), end = (int)layout.End(k);
            float alpha, beta;
            if (uniform)
            {
                float lo = values[start], hi = values[start];
                for (var i = start; i < end; i++)
                {
                    lo = values[i] < lo ? values[i] : lo;
                    hi = values[i] > hi ? values[i] : hi;
                }
                alpha = hi - lo;
                beta = lo;
            }
            else
            {
                float hi = 0;
                for (var i = start; i < end; i++)
                {
                    var a = MathF.Abs(values[i]);
                    hi = a > hi ? a : hi;
                }
                alpha = hi;
                beta = 0;
            }
            if (alpha < 1e-10f)
                alpha = 1;
            result.Alpha[k] = alpha;
            result.Beta[k] = beta;

            var step = alpha / steps;
            for (var i = start; i < end; i++)
            {
                var negative = !uniform && values[i] < 0;
                var x = uniform ? (values[i] - beta) / alpha * steps : MathF.Abs(values[i]) / alpha * steps;
                x = 0f < x ? x : 0f;
                x = x < steps ? x : steps;
                float q;
                if (settings.Rounding == RoundingMode.Stochastic)
                {
                    float floor = (int)x;
                    q = StochasticRoundingNoise.Uniform01(settings.Seed, i) < x - floor ? floor + 1 : floor;
                }
                else
                {
                    q = MathF.Round(x, MidpointRounding.ToEven);
                }
                if (uniform)
                {
                    result.Codes[i] = (byte)q;
                    result.Dequantized[i] = q * step + beta;
                }
                else
                {
                    result.Codes[i] = (byte)((negative ? 1 << (settings.Bits - 1) : 0) | (int)q);
                    result.Dequantized[i] = negative ? -(q * step) : q * step;
                }
            }
        }
        return result;
    }

    /// <summary>Values from codes and per-bucket (α, β): the inverse used when unpacking.</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, QuantizerSettings settings)
    {
        var layout = BucketLayout.For(codes.Length, settings.BucketSize);
        var output = new float[codes.Length];
        float steps = settings.Steps;
        var signShift = settings.Bits - 1;
        var magnitudeMask = (1 << signShift) - 1;
        for (var k = 0; k < layout.BucketCount; k++)
        {
            var step = alpha[k] / steps;
            for (var i = (int)layout.Start(k); i < layout.End(k); i++)
            {
                if (settings.Scheme == QuantizationScheme.Uniform)
                {
                    output[i] = codes[i] * step + beta[k];
                }
                else
                {
                    float q = codes[i] & magnitudeMask;
                    output[i] = (codes[i] >> signShift) != 0 ? -(q * step) : q * step;
                }
            }
        }
        return output;
    }
}
