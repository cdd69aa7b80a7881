using QuantStudio.Core.Quantization;

namespace QuantStudio.Tests.Quantization;

public class NonUniformQuantizerTests
{
    [Fact]
    public void Uniform_points_are_evenly_spaced()
    {
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f }, NonUniformQuantizer.UniformPoints(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => NonUniformQuantizer.UniformPoints(1));
    }

    [Fact]
    public void Quantile_points_are_percentiles_of_the_scaled_weights()
    {
        // One bucket, weights 0..100 scaled to i/100: percentiles 0, 25, 50, 75, 100.
        var w = Enumerable.Range(0, 101).Select(i => (float)i).ToArray();
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f }, NonUniformQuantizer.QuantilePoints(w, 5, null), (a, b) => Math.Abs(a - b) < 1e-6f);

        // Two buckets scaled to 0, 1/3, 2/3, 1 each: sorted 0 0 ⅓ ⅓ ⅔ ⅔ 1 1; the median sits at
        // position 3.5, halfway between ⅓ and ⅔.
        float[] two = [0, 1, 2, 3, 10, 20, 30, 40];
        Assert.Equal(new[] { 0f, 0.5f, 1f }, NonUniformQuantizer.QuantilePoints(two, 3, 4), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void Values_go_to_the_nearest_point_after_scaling()
    {
        // α = 10, β = 5: scaled 0, .04, .06, .5, .56, 1 against points 0, .1, 1.
        var q = new NonUniformQuantizer([0f, 0.1f, 1f], bucketSize: null);
        var (dequantized, codes, alpha, beta) = q.Quantize([5f, 5.4f, 5.6f, 10f, 10.6f, 15f]);
        Assert.Equal(new byte[] { 0, 0, 1, 1, 2, 2 }, codes);
        Assert.Equal(new[] { 5f, 5f, 6f, 6f, 15f, 15f }, dequantized);
        Assert.Equal(new[] { 10f }, alpha);
        Assert.Equal(new[] { 5f }, beta);
    }

    [Fact]
    public void Point_gradient_sums_alpha_times_upstream_over_each_points_weights()
    {
        var q = new NonUniformQuantizer([0f, 0.5f, 1f], bucketSize: 2);
        byte[] codes = [0, 2, 1, 1, 2];
        float[] alpha = [2f, 3f, 5f];
        float[] upstream = [1f, -1f, 0.5f, 2f, 4f];
        // p0: 2·1; p1: 3·0.5 + 3·2; p2: 2·(−1) + 5·4.
        Assert.Equal(new[] { 2f, 7.5f, 18f }, q.PointGradient(codes, alpha, upstream));
    }

    [Fact]
    public void Point_gradient_agrees_with_finite_differences_of_the_quantizer()
    {
        var rng = new Random(4);
        float[] points = [0f, 0.2f, 0.45f, 0.8f, 1f];
        // Buckets of 64 whose scaled values avoid the midpoints between points by 0.01, so that
        // moving a point by h = 1e-3 keeps every assignment; each bucket holds its own 0 and 1.
        var midpoints = points.Zip(points.Skip(1), (a, b) => (a + b) / 2).ToArray();
        var weights = new float[64 * 40];
        for (var k = 0; k < 40; k++)
        {
            float alphaK = (float)(0.5 + rng.NextDouble() * 3), betaK = (float)(rng.NextDouble() * 2 - 1);
            for (var i = 0; i < 64; i++)
            {
                double x;
                do
                    x = i == 0 ? 0 : i == 1 ? 1 : rng.NextDouble();
                while (midpoints.Any(m => Math.Abs(x - m) < 0.01));
                weights[k * 64 + i] = (float)(betaK + alphaK * x);
            }
        }
        var upstream = Enumerable.Range(0, weights.Length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var q = new NonUniformQuantizer(points, 64);
        var (_, codes, alpha, _) = q.Quantize(weights);
        var grad = q.PointGradient(codes, alpha, upstream);

        double Loss(float[] p)
        {
            var (d, c, _, _) = new NonUniformQuantizer(p, 64).Quantize(weights);
            Assert.Equal(codes, c); // the step is small enough to keep every assignment
            return d.Select((x, i) => (double)x * upstream[i]).Sum();
        }

        const float h = 1e-3f;
        for (var j = 0; j < points.Length; j++)
        {
            var plus = (float[])points.Clone();
            var minus = (float[])points.Clone();
            plus[j] = Math.Min(1, plus[j] + h);
            minus[j] = Math.Max(0, minus[j] - h);
            var fd = (Loss(plus) - Loss(minus)) / (plus[j] - minus[j]);
            Assert.True(Math.Abs(fd - grad[j]) < 2e-2 * Math.Max(1, Math.Abs(fd)), $"point {j}: fd {fd}, analytic {grad[j]}");
        }
    }

    [Fact]
    public void Points_must_be_sorted_and_inside_the_unit_interval()
    {
        Assert.Throws<ArgumentException>(() => new NonUniformQuantizer([0.5f, 0.2f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NonUniformQuantizer([0f, 1.5f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NonUniformQuantizer([0f, 1f], bucketSize: 0));
    }
}
