using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Estimation;

namespace QuantStudio.Web.Components.Charts;

/// <summary>
/// Score against packed size for the compared runs: the Pareto frontier joined by a line, the runs on it in colour, the
/// dominated ones grey. Hovering a point shows the run's method, bits, bucket and size. Drawn once per set of runs.
/// </summary>
public partial class ParetoChart
{
    private readonly Config config = new() { Responsive = true, DisplayLogo = false };
    private readonly global::Plotly.Blazor.Layout layout = new();
    private readonly IList<ITrace> data = new List<ITrace>();

    [Parameter, EditorRequired] public string Id { get; set; } = "";
    [Parameter, EditorRequired] public IReadOnlyList<SizeScorePoint> Points { get; set; } = [];
    /// <summary>Perplexity: lower is better.</summary>
    [Parameter] public bool Perplexity { get; set; }

    public IReadOnlySet<long> Frontier { get; private set; } = new HashSet<long>();

    protected override void OnInitialized()
    {
        Frontier = ParetoFrontier.Of(Points, higherIsBetter: !Perplexity);
        var onFrontier = Points.Where(p => Frontier.Contains(p.RunId)).OrderBy(p => p.Size).ToList();
        var dominated = Points.Where(p => !Frontier.Contains(p.RunId)).ToList();
        data.Add(Trace("Pareto frontier", onFrontier, "#2f5bea", ModeFlag.Lines | ModeFlag.Markers | ModeFlag.Text));
        data.Add(Trace("dominated", dominated, "#b0b7c3", ModeFlag.Markers | ModeFlag.Text));

        layout.Title = new Title { Text = Perplexity ? "Perplexity against packed size" : "Accuracy against packed size" };
        layout.Height = 360;
        layout.Margin = new Margin { L = 60, R = 20, T = 40, B = 50 };
        var (range, ticks) = SizeAxis(Points.Select(p => p.Size / 1e6).ToList());
        layout.XAxis = [new XAxis
        {
            Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log, Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "packed MB" },
            Range = range, TickVals = ticks.Cast<object>().ToList(), TickText = ticks.Select(t => (object)t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
        }];
        layout.YAxis = [Perplexity
            ? new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "perplexity" } }
            : new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "test accuracy" }, TickFormat = ".0%", Range = [0.0, 1.05] }];
    }

    private Scatter Trace(string name, IReadOnlyList<SizeScorePoint> points, string color, ModeFlag mode) => new()
    {
        Name = name,
        Mode = mode,
        X = points.Select(p => (object)(p.Size / 1e6)).ToList(),
        Y = points.Select(p => (object)p.Score).ToList(),
        TextArray = points.Select(p => p.Label).ToList(),
        TextPosition = TextPositionEnum.TopCenter,
        HoverTextArray = points.Select(Hover).ToList(),
        HoverInfo = HoverInfoFlag.Text,
        Marker = new Marker { Size = 12, Color = color },
        Line = new Line { Color = color },
    };

    /// <summary>
    /// The log size axis (MB): a range of at least half a decade either side of the points (a log axis fitted to one or two
    /// nearby sizes spans a sliver of a decade and labels it with stray digits; its range is in powers of ten), with ticks at
    /// 1, 2 and 5 times each power of ten in view, written out in full (0.02, 0.05, 0.1).
    /// </summary>
    public static (IList<object>? Range, IReadOnlyList<double> Ticks) SizeAxis(IReadOnlyList<double> megabytes)
    {
        var logs = megabytes.Where(m => m > 0 && double.IsFinite(m)).Select(Math.Log10).ToList();
        if (logs.Count == 0)
            return (null, []);
        double lo = logs.Min() - 0.5, hi = logs.Max() + 0.5;
        var ticks = new List<double>();
        for (var e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
            foreach (var m in new[] { 1, 2, 5 })
            {
                var v = double.Parse((m * Math.Pow(10, e)).ToString("G1", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
                if (Math.Log10(v) >= lo && Math.Log10(v) <= hi)
                    ticks.Add(v);
            }
        return ([lo, hi], ticks);
    }

    public static string Hover(SizeScorePoint p) =>
        $"{p.Label}<br>{p.Method}, {(p.Bits is { } b ? $"{b} bits" : "fp32")}, bucket {(p.BucketSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "tensor")}<br>" +
        $"packed {Bytes.Format(p.Size)}";
}
