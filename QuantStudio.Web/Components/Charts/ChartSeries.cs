namespace QuantStudio.Web.Components.Charts;

/// <summary>
/// One line of a live chart: the points it shows, at most <see cref="Capacity"/>. Past that it keeps every other point and
/// from then on only every <see cref="Stride"/>-th point offered, so a long run's chart stays light while every point stays
/// in the store. <see cref="Version"/> changes when kept points were dropped: a chart showing the series must then redraw it
/// instead of extending it.
/// </summary>
public sealed class ChartSeries(string name, int capacity = ChartSeries.DefaultCapacity)
{
    public const int DefaultCapacity = 2000;

    private readonly List<double> x = [];
    private readonly List<double> y = [];

    public string Name { get; } = name;
    public int Capacity { get; } = Math.Max(2, capacity);
    public IReadOnlyList<double> X => x;
    public IReadOnlyList<double> Y => y;
    public int Count => x.Count;

    /// <summary>Every point offered, kept or not.</summary>
    public long Offered { get; private set; }

    /// <summary>1, then doubled each time the series was thinned.</summary>
    public int Stride { get; private set; } = 1;

    public int Version { get; private set; }

    /// <summary>Draw a marker at each point (epoch series), not only the line (step series).</summary>
    public bool ShowMarkers { get; init; }

    public void Add(double px, double py)
    {
        var index = Offered++;
        if (index % Stride != 0)
            return;
        x.Add(px);
        y.Add(py);
        if (x.Count <= Capacity)
            return;
        // The kept points are the offered ones at multiples of Stride; keeping the even ones leaves multiples of 2 × Stride.
        var kept = 0;
        for (var i = 0; i < x.Count; i += 2, kept++)
        {
            x[kept] = x[i];
            y[kept] = y[i];
        }
        x.RemoveRange(kept, x.Count - kept);
        y.RemoveRange(kept, y.Count - kept);
        Stride *= 2;
        Version++;
    }

    public void Clear()
    {
        x.Clear();
        y.Clear();
        Offered = 0;
        Stride = 1;
        Version++;
    }

    /// <summary>Plotly's JSON has no NaN: a diverged value is a gap in the line.</summary>
    public static object? ToPlotValue(double v) => double.IsFinite(v) ? v : null;
}
