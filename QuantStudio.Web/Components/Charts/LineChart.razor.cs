using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;

namespace QuantStudio.Web.Components.Charts;

/// <summary>
/// Lines over a step or epoch axis with phase markers. New points go out with ExtendTraces (only the new points cross the
/// wire); a new series, a thinned series or a new marker redraws the chart.
/// </summary>
public partial class LineChart
{
    private readonly List<int> drawnVersions = [];
    private int drawnMarkers = -1;

    [Parameter, EditorRequired] public IReadOnlyList<ChartSeries> Series { get; set; } = [];
    [Parameter] public IReadOnlyList<PhaseMarker> Markers { get; set; } = [];
    [Parameter] public string Title { get; set; } = "";
    [Parameter] public string XTitle { get; set; } = "step";
    /// <summary>A d3 format for the y axis (".0%" for accuracy); none by default.</summary>
    [Parameter] public string? YTickFormat { get; set; }
    [Parameter] public int Height { get; set; } = 280;

    /// <summary>Full redraws after the first frame (the rest of the updates extended the traces).</summary>
    public int Redraws { get; private set; }

    /// <summary>Points drawn (sent to the browser) per series.</summary>
    public IReadOnlyList<int> DrawnPoints => Data.Select(t => ((Scatter)t).X?.Count ?? 0).ToList();

    /// <summary>The points of trace <paramref name="trace"/> as the browser holds them (null: a gap).</summary>
    public IReadOnlyList<(double X, double? Y)> Drawn(int trace)
    {
        var t = (Scatter)Data[trace];
        return t.X.Zip(t.Y, (x, y) => (Convert.ToDouble(x, System.Globalization.CultureInfo.InvariantCulture),
            y is null ? (double?)null : Convert.ToDouble(y, System.Globalization.CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>The phase markers as the browser holds them.</summary>
    public IReadOnlyList<double> DrawnMarkers => Layout.Shapes?.Select(s => Convert.ToDouble(s.X0, System.Globalization.CultureInfo.InvariantCulture)).ToList() ?? [];

    protected override void OnParametersSet()
    {
        if (drawnMarkers >= 0)
            return;
        // The first frame: Plotly.Blazor draws these traces and this layout once it has rendered.
        Layout.Title = new Title { Text = Title };
        Layout.Height = Height;
        Layout.Margin = new Margin { L = 50, R = 20, T = 40, B = 40 };
        Layout.XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = XTitle } }];
        Layout.YAxis = [new YAxis { TickFormat = YTickFormat }];
        Rebuild();
    }

    protected override bool HasUpdate() =>
        Series.Count != Data.Count || Markers.Count != drawnMarkers ||
        Series.Where((s, i) => s.Version != drawnVersions[i] || s.Count != ((Scatter)Data[i]).X.Count).Any();

    protected override async Task UpdateAsync(PlotlyChart chart, CancellationToken ct)
    {
        if (Series.Count != Data.Count || Markers.Count != drawnMarkers || Series.Where((s, i) => s.Version != drawnVersions[i]).Any())
        {
            Rebuild();
            Redraws++;
            await chart.React(ct);
            return;
        }
        var indices = new List<int>();
        var xs = new List<IEnumerable<object>>();
        var ys = new List<IEnumerable<object>>();
        for (var i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            var drawn = ((Scatter)Data[i]).X.Count;
            if (s.Count <= drawn)
                continue;
            indices.Add(i);
            xs.Add(s.X.Skip(drawn).Select(v => (object)v).ToArray());
            ys.Add(s.Y.Skip(drawn).Select(ChartSeries.ToPlotValue).ToArray()!);
        }
        if (indices.Count > 0)
            await chart.ExtendTraces(xs, ys, indices, cancellationToken: ct);
    }

    private void Rebuild()
    {
        Data.Clear();
        drawnVersions.Clear();
        foreach (var s in Series)
        {
            Data.Add(new Scatter
            {
                Name = s.Name,
                Mode = s.ShowMarkers ? ModeFlag.Lines | ModeFlag.Markers : ModeFlag.Lines,
                X = s.X.Select(v => (object)v).ToList(),
                Y = s.Y.Select(ChartSeries.ToPlotValue).ToList()!,
            });
            drawnVersions.Add(s.Version);
        }
        Layout.Shapes = Markers.Select(m => new Shape
        {
            Type = Plotly.Blazor.LayoutLib.ShapeLib.TypeEnum.Line, X0 = m.X, X1 = m.X, YRef = "paper", Y0 = 0, Y1 = 1,
            Line = new Plotly.Blazor.LayoutLib.ShapeLib.Line { Color = "#98a2b3", Width = 1, Dash = "dot" },
        }).ToList();
        Layout.Annotations = Markers.Select(m => new Annotation
        {
            X = m.X, XRef = "x", Y = 1, YRef = "paper", Text = m.Label, ShowArrow = false,
            XAnchor = Plotly.Blazor.LayoutLib.AnnotationLib.XAnchorEnum.Left, YAnchor = Plotly.Blazor.LayoutLib.AnnotationLib.YAnchorEnum.Top,
        }).ToList();
        drawnMarkers = Markers.Count;
    }
}
