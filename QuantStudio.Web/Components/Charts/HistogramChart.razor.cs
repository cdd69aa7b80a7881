using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Components.Charts;

/// <summary>
/// A layer's full-precision weights as a histogram, with its quantization levels (or learned points) drawn over it as
/// vertical lines. A new snapshot, or another layer, redraws it.
/// </summary>
public partial class HistogramChart
{
    private LayerSnapshot? drawn;

    [Parameter] public LayerSnapshot? Snapshot { get; set; }

    /// <summary>The layer the drawn histogram shows (the element's data-layer).</summary>
    public string? DrawnLayer => drawn?.Layer;

    protected override void OnInitialized()
    {
        Layout.Height = 300;
        Layout.Margin = new Margin { L = 50, R = 20, T = 40, B = 40 };
        Layout.BarGap = 0;
        Layout.ShowLegend = false;
        Layout.XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "weight" } }];
        Layout.YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "count" } }];
        Fill(Snapshot);
    }

    protected override bool HasUpdate() => !ReferenceEquals(Snapshot, drawn);

    protected override async Task UpdateAsync(PlotlyChart chart, CancellationToken ct)
    {
        Fill(Snapshot);
        await chart.React(ct);
        StateHasChanged();
    }

    private void Fill(LayerSnapshot? s)
    {
        drawn = s;
        Data.Clear();
        if (s is null)
        {
            Layout.Title = new Title { Text = "No layer snapshot yet" };
            Layout.Shapes = [];
            return;
        }
        var counts = s.HistogramCounts;
        var edges = s.HistogramEdges;
        var bins = Math.Min(counts.Length, Math.Max(0, edges.Length - 1));
        Data.Add(new Bar
        {
            Name = "weights",
            X = Enumerable.Range(0, bins).Select(i => (object)((edges[i] + edges[i + 1]) / 2)).ToList(),
            Y = counts.Take(bins).Select(c => (object)c).ToList(),
            WidthArray = Enumerable.Range(0, bins).Select(i => edges[i + 1] - edges[i]).Select(w => double.IsFinite(w) && Math.Abs(w) < 1e20 ? (decimal?)(decimal)w : null).ToList(),
            Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = "#1f77b4" },
        });
        Layout.Title = new Title { Text = $"{s.Layer}: {s.Levels.Length} levels" };
        Layout.Shapes = s.Levels.Where(double.IsFinite).Select(v => new Shape
        {
            Type = Plotly.Blazor.LayoutLib.ShapeLib.TypeEnum.Line, X0 = v, X1 = v, YRef = "paper", Y0 = 0, Y1 = 1,
            Line = new Plotly.Blazor.LayoutLib.ShapeLib.Line { Color = "#d62728", Width = 1 },
        }).ToList();
    }
}
