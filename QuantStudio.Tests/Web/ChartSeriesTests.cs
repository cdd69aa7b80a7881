using QuantStudio.Web.Components.Charts;

namespace QuantStudio.Tests.Web;

public sealed class ChartSeriesTests
{
    [Fact]
    public void A_series_past_its_capacity_keeps_every_other_point_and_then_every_stride_th()
    {
        var s = new ChartSeries("loss", capacity: 8);
        for (var i = 0; i < 100; i++)
            s.Add(i, i * 10);
        Assert.Equal(100, s.Offered);
        Assert.InRange(s.Count, 5, 8);
        // Kept points are the offered ones at multiples of the stride, in order, with their own y.
        Assert.All(s.X, x => Assert.Equal(0, x % s.Stride));
        Assert.Equal(s.X.Select(x => x * 10), s.Y);
        Assert.Equal(Enumerable.Range(0, s.Count).Select(i => (double)i * s.Stride), s.X);
        Assert.True(s.Version > 0);
    }

    [Fact]
    public void A_series_within_its_capacity_keeps_every_point()
    {
        var s = new ChartSeries("loss", capacity: 100);
        for (var i = 0; i < 100; i++)
            s.Add(i, double.NaN);
        Assert.Equal(100, s.Count);
        Assert.Equal(0, s.Version);
        Assert.Null(ChartSeries.ToPlotValue(s.Y[0]));
        Assert.Equal(1.5, ChartSeries.ToPlotValue(1.5));
    }
}
