using QuantStudio.Core.Quantization;

namespace QuantStudio.Tests.Quantization;

public class BitAllocationTests
{
    [Fact]
    public void Equal_norms_keep_the_allocation() =>
        Assert.Equal(new[] { 16, 16, 16, 16 }, BitAllocation.Allocate([16, 16, 16, 16], [1, 1, 1, 1]));

    [Fact]
    public void Spare_points_follow_the_gradient_norms()
    {
        // Half of each (8) stays; the other 32 split 3:1:0:0 → 24 and 8.
        Assert.Equal(new[] { 32, 16, 8, 8 }, BitAllocation.Allocate([16, 16, 16, 16], [3, 1, 0, 0]));
    }

    [Fact]
    public void Largest_remainder_rounding_keeps_the_total()
    {
        // Half (2 each) stays; 6 split 1:1:2 → 1.5, 1.5, 3 → floors 1, 1, 3, the spare point to the first tie.
        Assert.Equal(new[] { 4, 3, 5 }, BitAllocation.Allocate([4, 4, 4], [1, 1, 2]));
        var rng = new Random(1);
        for (var trial = 0; trial < 50; trial++)
        {
            var points = Enumerable.Range(0, 7).Select(_ => 1 << rng.Next(1, 9)).ToArray();
            var norms = points.Select(_ => rng.NextDouble() * 10).ToArray();
            var r = BitAllocation.Allocate(points, norms);
            Assert.Equal(points.Sum(), r.Sum());
            Assert.All(r.Select((p, i) => (p, i)), x => Assert.InRange(x.p, Math.Max(1, points[x.i] / 2), 256));
        }
    }

    [Fact]
    public void Overflow_above_the_cap_goes_to_the_other_tensors()
    {
        var r = BitAllocation.Allocate([256, 256, 2], [1, 0, 0]);
        Assert.Equal(256, r[0]);
        Assert.Equal(514, r.Sum());
        Assert.Equal(new[] { 256, 193, 65 }, r);
    }

    [Fact]
    public void Zero_gradients_return_the_original_allocation() =>
        Assert.Equal(new[] { 4, 16, 256 }, BitAllocation.Allocate([4, 16, 256], [0, 0, 0]));

    [Fact]
    public void Invalid_input_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => BitAllocation.Allocate([4, 4], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitAllocation.Allocate([0], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitAllocation.Allocate([4], [double.NaN]));
    }
}
