using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Estimation;

/// <summary>The size a student will have before it trains: fp32 bytes, packed bytes, and their ratio.</summary>
public sealed record CompressionEstimate(long Parameters, long Fp32Bytes, long PackedBytes, double Ratio, int? Bits)
{
    /// <summary>
    /// Packed size: <c>bits</c> per weight plus, per bucket, a 4-byte scale and a 4-byte offset (the
    /// uniform scheme's min–max); one bucket per tensor is approximated as a single bucket. Methods that do
    /// not quantize keep fp32.
    /// </summary>
    public static CompressionEstimate? For(ExperimentSpec spec, IModelParameterCounts counts)
    {
        if (counts.Count(spec.Student.Arch, spec.Student.Width, spec.Student.Depth, spec.Dataset.Name) is not { } n)
            return null;
        var fp32 = n * 4;
        if (!Methods.Quantizes(spec.Method))
            return new CompressionEstimate(n, fp32, fp32, 1.0, null);
        var bits = Math.Clamp(spec.Quantization.Bits, 1, 32);
        var buckets = spec.Quantization.BucketSize is { } b and > 0 ? (n + b - 1) / b : 1;
        var packed = (n * bits + 7) / 8 + buckets * 8;
        return new CompressionEstimate(n, fp32, packed, fp32 / (double)packed, bits);
    }
}
