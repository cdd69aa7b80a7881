using Bunit;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Components.Charts;
using QuantStudio.Web.Components.Panels;

namespace QuantStudio.Tests.Web;

/// <summary>The Plotly.Blazor charts: what they send to the browser as their data grows or changes.</summary>
public sealed class LiveChartTests : StudioComponentContext
{
    [Fact]
    public void A_line_chart_extends_its_traces_with_only_the_new_points()
    {
        var loss = new ChartSeries("loss");
        for (var i = 0; i < 5; i++)
            loss.Add(i, 1.0 / (i + 1));
        var cut = Render<LineChart>(p => p.Add(x => x.Id, "chart-loss").Add(x => x.Series, [loss]));
        Assert.Single(PlotlyCalls("newPlot"));
        Assert.Equal([5], cut.Instance.DrawnPoints);

        for (var i = 5; i < 8; i++)
            loss.Add(i, 1.0 / (i + 1));
        cut.Render();
        Eventually(() => PlotlyCalls("extendTraces").Count == 1, "one extend");
        Assert.Equal([8], cut.Instance.DrawnPoints);
        // The call carries the three new points only: x [5, 6, 7] for trace 0.
        var args = PlotlyCalls("extendTraces")[0].Arguments;
        Assert.Contains(args, a => a is IEnumerable<IEnumerable<object>> xs && xs.Single().Cast<double>().SequenceEqual([5.0, 6.0, 7.0]));

        // Nothing new: nothing sent.
        cut.Render();
        Thread.Sleep(LiveChartBase.MinRedrawInterval * 2);
        cut.Render();
        Assert.Single(PlotlyCalls("extendTraces"));
        Assert.Empty(PlotlyCalls("react"));
    }

    [Fact]
    public void Updates_closer_than_the_redraw_interval_are_folded_into_one()
    {
        var loss = new ChartSeries("loss");
        loss.Add(0, 1);
        var cut = Render<LineChart>(p => p.Add(x => x.Id, "chart-loss").Add(x => x.Series, [loss]));
        for (var i = 1; i <= 20; i++)
        {
            loss.Add(i, 1);
            cut.Render();
        }
        Eventually(() => cut.Instance.DrawnPoints[0] == 21, "all 21 points drawn");
        // 20 renders within a few milliseconds: the first extends at once, the rest wait for the interval and go out together.
        Assert.InRange(PlotlyCalls("extendTraces").Count, 1, 3);
    }

    [Fact]
    public void A_thinned_series_or_a_new_phase_marker_redraws_the_chart()
    {
        var loss = new ChartSeries("loss", capacity: 4);
        for (var i = 0; i < 4; i++)
            loss.Add(i, 1);
        var markers = new List<PhaseMarker> { new(0, "teacher") };
        var cut = Render<LineChart>(p => p.Add(x => x.Id, "chart-loss").Add(x => x.Series, [loss]).Add(x => x.Markers, markers));
        loss.Add(4, 1); // past the capacity: thinned to every other point
        cut.Render();
        Eventually(() => PlotlyCalls("react").Count == 1, "a redraw of the thinned series");
        Assert.Equal([3], cut.Instance.DrawnPoints);
        Assert.Empty(PlotlyCalls("extendTraces"));

        markers.Add(new PhaseMarker(4, "student"));
        cut.Render();
        Eventually(() => PlotlyCalls("react").Count == 2, "a redraw for the new marker");
    }

    [Fact]
    public void The_layer_selector_changes_the_histogram()
    {
        LayerSnapshot Snap(string layer, int bits, double[] levels) => new("train", 2, layer, [16, 8], bits, 256, [-1, 0, 1], [3, 5], levels, new ScaleStats(0.1, 0.2, 0.3));
        var cut = Render<LayerPanel>(p => p.Add(x => x.Layers, [Snap("conv1.weight", 4, [-0.5, 0, 0.5]), Snap("fc.weight", 2, [-0.5, 0.5])]));
        var histogram = cut.FindComponent<HistogramChart>();
        Assert.Equal("conv1.weight", histogram.Instance.DrawnLayer);
        Assert.Equal("4", cut.Find("#layer-bits").TextContent);

        cut.Find("#layer-select").Change("fc.weight");
        Eventually(() => histogram.Instance.DrawnLayer == "fc.weight", "the histogram of fc.weight");
        Assert.Equal("fc.weight", cut.Find("#chart-histogram-box").GetAttribute("data-layer"));
        Assert.Single(PlotlyCalls("react"));
        Assert.Equal("2", cut.Find("#layer-bits").TextContent);
        Assert.Equal("2", cut.Find("#layer-levels").TextContent);
    }

    [Fact]
    public void Compare_marks_the_pareto_frontier_and_greys_the_dominated_runs()
    {
        SizeScorePoint P(long id, double size, double score) => new(id, $"#{id}", size, score, "Quantized distillation", 4, 256);
        // 3 is larger and worse than 1: dominated. 1 (small) and 2 (accurate) are each best at something.
        var points = new[] { P(1, 100_000, 0.80), P(2, 400_000, 0.90), P(3, 200_000, 0.70), P(4, 400_000, 0.85) };
        Assert.Equal(new HashSet<long> { 1, 2 }, ParetoFrontier.Of(points));
        // For perplexity lower is better: 3 (smallest perplexity among the small ones) joins, 2 drops out.
        Assert.Equal(new HashSet<long> { 1, 3 }, ParetoFrontier.Of([P(1, 100_000, 9), P(2, 400_000, 10), P(3, 200_000, 5)], higherIsBetter: false));

        var cut = Render<ParetoChart>(p => p.Add(x => x.Id, "chart-scatter").Add(x => x.Points, points));
        Assert.Equal("1,2", cut.Find("[data-chart=chart-scatter]").GetAttribute("data-frontier"));
        Assert.Contains("bucket 256", ParetoChart.Hover(points[0]));
        Assert.Contains("4 bits", ParetoChart.Hover(points[0]));
        Assert.Contains("100.00 kB", ParetoChart.Hover(points[0]));
        Assert.Single(PlotlyCalls("newPlot"));
    }
}
