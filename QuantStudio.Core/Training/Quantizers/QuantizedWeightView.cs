using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Quantizers;

/// <summary>
/// What the event stream and the size report need to know about one quantized weight right now:
/// its full-precision values, the levels (in weight space) they are rounded to, and its codes.
/// </summary>
/// <param name="Weight">The full-precision weight (a live parameter: do not dispose).</param>
/// <param name="Levels">The quantization levels in weight space (see each quantizer for which bucket they describe).</param>
/// <param name="Codes">uint8 codes in the tensor's row-major order.</param>
/// <param name="Bits">Bits per code.</param>
/// <param name="BucketCount">Scaling buckets (1 for a per-tensor scale).</param>
/// <param name="ScalesPerBucket">fp32 scales stored per bucket.</param>
/// <param name="ExtraBytes">Bytes stored once per tensor besides codes and scales (a point table).</param>
public sealed record QuantizedWeightView(string Name, Tensor Weight, int Bits, int? BucketSize, double[] Levels, ScaleStats Scales,
    byte[] Codes, long BucketCount, int ScalesPerBucket, long ExtraBytes = 0);

internal static class ScaleStatistics
{
    public static ScaleStats Of(IReadOnlyList<float> values) =>
        values.Count == 0 ? new ScaleStats(0, 0, 0) : new ScaleStats(values.Min(), values.Average(v => (double)v), values.Max());

    /// <summary>The bucket whose range (α) is the median one: a typical bucket to draw levels for.</summary>
    public static int MedianBucket(float[] alpha)
    {
        var order = Enumerable.Range(0, alpha.Length).OrderBy(i => alpha[i]).ThenBy(i => i).ToArray();
        return order[order.Length / 2];
    }
}
