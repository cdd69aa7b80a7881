using Microsoft.AspNetCore.Components;
using Plotly.Blazor;

namespace QuantStudio.Web.Components.Charts;

/// <summary>
/// What every live chart shares: the Plotly chart it owns (its traces and layout live here, in the circuit), and the update
/// policy. Plotly.Blazor draws the traces as they are on its first render; after that this calls <see cref="UpdateAsync"/>
/// from <see cref="OnAfterRenderAsync"/>, at most once per <see cref="MinRedrawInterval"/>: renders in between are folded
/// into one update, sent when the interval has passed. Subclasses extend traces with the new points where they can and
/// redraw only when something else changed.
/// </summary>
public abstract class LiveChartBase : ComponentBase, IDisposable
{
    public static readonly TimeSpan MinRedrawInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource disposed = new();
    private long lastUpdate;
    private bool updateScheduled;

    [Inject] protected TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>The id of the chart's element (Plotly keeps the drawn data on it).</summary>
    [Parameter, EditorRequired] public string Id { get; set; } = "";

    protected PlotlyChart? Chart { get; set; }
    protected Config Config { get; } = new() { Responsive = true, DisplayLogo = false };
    protected global::Plotly.Blazor.Layout Layout { get; } = new();
    protected IList<ITrace> Data { get; } = new List<ITrace>();

    /// <summary>True once Plotly drew the first frame; before that the traces may still be read for it and must not change.</summary>
    protected bool Ready { get; private set; }

    /// <summary>Updates sent to the browser: extends and redraws.</summary>
    public int Updates { get; private set; }

    /// <summary>Called by PlotlyChart once its first frame is drawn.</summary>
    protected void OnChartDrawn()
    {
        Ready = true;
        _ = InvokeAsync(StateHasChanged);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!Ready || Chart is null || disposed.IsCancellationRequested || !HasUpdate())
            return;
        var wait = MinRedrawInterval - Time.GetElapsedTime(lastUpdate);
        if (lastUpdate != 0 && wait > TimeSpan.Zero)
        {
            ScheduleUpdate(wait);
            return;
        }
        lastUpdate = Time.GetTimestamp();
        Updates++;
        try
        {
            await UpdateAsync(Chart, disposed.Token);
        }
        catch (Exception ex) when (ex is TaskCanceledException or ObjectDisposedException or Microsoft.JSInterop.JSDisconnectedException)
        {
            // The page went away while the update was under way.
        }
    }

    private void ScheduleUpdate(TimeSpan wait)
    {
        if (updateScheduled)
            return;
        updateScheduled = true;
        _ = Task.Delay(wait, Time, disposed.Token).ContinueWith(_ =>
        {
            updateScheduled = false;
            if (!disposed.IsCancellationRequested)
                _ = InvokeAsync(StateHasChanged);
        }, TaskScheduler.Default);
    }

    /// <summary>True when the chart's source has something the drawn chart lacks.</summary>
    protected abstract bool HasUpdate();

    /// <summary>Brings the drawn chart up to date with its source.</summary>
    protected abstract Task UpdateAsync(PlotlyChart chart, CancellationToken ct);

    // The source is cancelled, not disposed: a scheduled update may still read its token.
    public void Dispose()
    {
        disposed.Cancel();
        GC.SuppressFinalize(this);
    }
}
