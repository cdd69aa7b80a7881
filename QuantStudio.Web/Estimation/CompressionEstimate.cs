using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Web.Estimation;

/// <summary>
/// The size a student will have before it trains: fp32 bytes, packed bytes, and their ratio. <see cref="FullPrecisionParameters"/>
/// are the weights left in fp32 (the first and last layers of the bucketed methods without <c>quantize_first_last</c>);
/// <see cref="Warning"/> says when they dominate the packed size, as the run's own warning will.
/// </summary>
public sealed record CompressionEstimate(long Parameters, long Fp32Bytes, long PackedBytes, double Ratio, int? Bits,
    long FullPrecisionParameters = 0, string? Warning = null)
{
    /// <summary>
    /// Packed size: <c>bits</c> per quantized weight plus, per bucket, a 4-byte scale and a 4-byte offset (the
    /// uniform scheme's min–max); one bucket per tensor is approximated as a single bucket. Weights left in full
    /// precision count 4 bytes each. Methods that do not quantize keep fp32.
    /// </summary>
    public static CompressionEstimate? For(ExperimentSpec spec, IModelParameterCounts counts)
    {
        var student = spec.Student;
        if (counts.Count(student.Arch, student.Width, student.Depth, spec.Dataset.Name) is not { } n)
            return null;
        var fp32 = n * 4;
        if (!Methods.Quantizes(spec.Method))
            return new CompressionEstimate(n, fp32, fp32, 1.0, null);
        var kept = Methods.UsesBuckets(spec.Method) && !spec.Quantization.QuantizeFirstLast
            ? counts.FirstLastWeights(student.Arch, student.Width, student.Depth, spec.Dataset.Name) ?? 0
            : 0;
        var quantized = n - kept;
        var bits = Math.Clamp(spec.Quantization.Bits, 1, 32);
        var buckets = spec.Quantization.BucketSize is { } b and > 0 ? (quantized + b - 1) / b : 1;
        var packed = (quantized * bits + 7) / 8 + buckets * 8 + kept * 4;
        var ratio = fp32 / (double)packed;
        var share = (double)(kept * 4) / packed;
        var warning = share > CompressionNotices.DominantShare ? CompressionNotices.FirstLastMessage(null, share, ratio) : null;
        return new CompressionEstimate(n, fp32, packed, ratio, bits, kept, warning);
    }
}
