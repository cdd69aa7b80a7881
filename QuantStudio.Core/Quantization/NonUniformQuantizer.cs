using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Quantization;

/// <summary>
/// Quantization to explicit points (differentiable quantization, Polino et al. 2018): after the
/// same bucketed min–max scaling as the uniform quantizer, every value goes to the nearest of a
/// sorted set of points in [0, 1] (ties to the lower point), and comes back as p·α + β. The
/// points are the learnable parameters; <see cref="PointGradient"/> gives their gradient.
/// </summary>
public sealed class NonUniformQuantizer
{
    public const int MaxPoints = 256;

    public NonUniformQuantizer(IReadOnlyList<float> points, int? bucketSize = BucketLayout.DefaultBucketSize)
    {
        Validate(points);
        if (bucketSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, "bucket size must be >= 1, or null for one bucket per tensor");
        Points = points.ToArray();
        BucketSize = bucketSize;
    }

    public float[] Points { get; }
    public int? BucketSize { get; }

    /// <summary>Points i/(n−1), i = 0..n−1.</summary>
    public static float[] UniformPoints(int count)
    {
        CheckCount(count);
        return Enumerable.Range(0, count).Select(i => (float)i / (count - 1)).ToArray();
    }

    /// <summary>
    /// Percentiles of the scaled weights at linspace(0, 100, n), interpolated linearly between
    /// order statistics (numpy's default), so each point covers about the same number of weights.
    /// </summary>
    public static float[] QuantilePoints(ReadOnlySpan<float> weights, int count, int? bucketSize = BucketLayout.DefaultBucketSize)
    {
        CheckCount(count);
        if (weights.IsEmpty)
            throw new ArgumentException("quantile points need at least one weight", nameof(weights));
        var layout = BucketLayout.For(weights.Length, bucketSize);
        var (alpha, beta) = BucketScaling.MinMax(weights, layout);
        var sorted = BucketScaling.ScaleDown(weights, layout, alpha, beta);
        Array.Sort(sorted);
        var points = new float[count];
        for (var j = 0; j < count; j++)
        {
            var position = (double)j / (count - 1) * (sorted.Length - 1);
            var below = (int)Math.Floor(position);
            var above = Math.Min(below + 1, sorted.Length - 1);
            points[j] = (float)(sorted[below] + (position - below) * (sorted[above] - sorted[below]));
        }
        return points;
    }

    /// <summary>Codes (index of the nearest point), dequantized values and the per-bucket scales.</summary>
    public (float[] Dequantized, byte[] Codes, float[] Alpha, float[] Beta) Quantize(ReadOnlySpan<float> weights)
    {
        var layout = BucketLayout.For(weights.Length, BucketSize);
        var (alpha, beta) = BucketScaling.MinMax(weights, layout);
        var codes = new byte[weights.Length];
        var dequantized = new float[weights.Length];
        for (var k = 0; k < alpha.Length; k++)
        {
            for (var i = (int)layout.Start(k); i < layout.End(k); i++)
            {
                var j = Nearest((weights[i] - beta[k]) / alpha[k]);
                codes[i] = (byte)j;
                dequantized[i] = Points[j] * alpha[k] + beta[k];
            }
        }
        return (dequantized, codes, alpha, beta);
    }

    public QuantizedTensor Quantize(Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        var values = weights.cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        var (dequantized, codes, alpha, beta) = Quantize(values);
        var settings = new QuantizerSettings(BitsFor(Points.Length), BucketSize);
        return new QuantizedTensor(settings,
            scope.MoveToOuter(torch.tensor(dequantized, weights.shape)),
            scope.MoveToOuter(torch.tensor(codes, weights.shape)),
            scope.MoveToOuter(torch.tensor(alpha)),
            scope.MoveToOuter(torch.tensor(beta)));
    }

    /// <summary>
    /// ∂L/∂p_j = Σ over the weights mapped to p_j of α_bucket · ∂L/∂ŵ, since ŵ = p_j·α + β.
    /// </summary>
    public float[] PointGradient(ReadOnlySpan<byte> codes, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gradDequantized)
    {
        if (codes.Length != gradDequantized.Length)
            throw new ArgumentException($"{codes.Length} codes but {gradDequantized.Length} gradient values", nameof(gradDequantized));
        var layout = BucketLayout.For(codes.Length, BucketSize);
        if (alpha.Length != layout.BucketCount)
            throw new ArgumentException($"expected {layout.BucketCount} alpha values, got {alpha.Length}", nameof(alpha));
        var grad = new double[Points.Length];
        for (var k = 0; k < alpha.Length; k++)
        {
            for (var i = (int)layout.Start(k); i < layout.End(k); i++)
                grad[codes[i]] += (double)alpha[k] * gradDequantized[i];
        }
        return grad.Select(g => (float)g).ToArray();
    }

    /// <summary>Bits needed to index <paramref name="points"/> points.</summary>
    public static int BitsFor(int points) => Math.Max(1, (int)Math.Ceiling(Math.Log2(points)));

    private int Nearest(float x)
    {
        var points = Points;
        var i = Array.BinarySearch(points, x);
        if (i >= 0)
            return i;
        var above = ~i;
        if (above == 0)
            return 0;
        if (above == points.Length)
            return points.Length - 1;
        return x - points[above - 1] <= points[above] - x ? above - 1 : above;
    }

    private static void CheckCount(int count)
    {
        if (count is < 2 or > MaxPoints)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"point count must be in 2..{MaxPoints}");
    }

    private static void Validate(IReadOnlyList<float> points)
    {
        CheckCount(points.Count);
        for (var i = 0; i < points.Count; i++)
        {
            if (!(points[i] >= 0 && points[i] <= 1))
                throw new ArgumentOutOfRangeException(nameof(points), points[i], $"point {i} must lie in [0, 1]");
            if (i > 0 && points[i] < points[i - 1])
                throw new ArgumentException($"points must be sorted: point {i} ({points[i]}) is below point {i - 1} ({points[i - 1]})", nameof(points));
        }
    }
}
