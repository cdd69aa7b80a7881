using Microsoft.AspNetCore.Components;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Web.Components.Sweeps;

/// <summary>
/// A sweep, live: its runs' progress and figures and the Pareto frontier of the finished ones. The run list's change feed
/// (<see cref="RunListNotifier"/>, as the runs page follows it) re-reads the sweep a few times a second while its runs change.
/// </summary>
public partial class SweepDetail
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource disposed = new();
    private SweepView? sweep;
    private bool loaded;
    private bool following;

    [Parameter] public long Id { get; set; }

    [Inject] private SweepService Service { get; set; } = default!;
    [Inject] private RunListNotifier Notifier { get; set; } = default!;

    /// <summary>The page's model, for tests.</summary>
    internal SweepView? View => sweep;

    protected override async Task OnParametersSetAsync()
    {
        if (loaded && sweep?.Sweep.Id == Id)
            return;
        // Subscribe before reading, so a change made during the read is seen again rather than lost.
        if (RendererInfo.IsInteractive)
            Follow();
        sweep = await Service.GetAsync(Id, disposed.Token);
        loaded = true;
    }

    /// <summary>The finished runs placed on the chart and their figures: the chart is drawn again when this changes.</summary>
    private string ChartKey => string.Join(";", sweep!.Frontier.Points.Select(p => $"{p.RunId}:{p.Size}:{p.Score}"));

    /// <summary>
    /// Each drawing gets its own element id: the chart it replaces is purged by id when it is disposed, which happens after
    /// the new one has drawn, and with one id for both the new drawing was wiped.
    /// </summary>
    private string ChartId => $"chart-sweep-pareto-{sweep!.Frontier.Points.Count}-{(uint)ChartKey.GetHashCode():x8}";

    private string StatusCounts()
    {
        var active = sweep!.Runs.Where(r => !r.HasEnded).GroupBy(r => r.Status.ToName()).Select(g => $"{g.Count()} {g.Key}").ToList();
        var failed = sweep.Runs.Where(r => r.HasEnded && r.Status != RunStatus.Finished).GroupBy(r => r.Status.ToName())
            .Select(g => $"{g.Count()} {g.Key}");
        var parts = active.Concat(failed).ToList();
        return parts.Count == 0 ? "" : $" ({string.Join(", ", parts)})";
    }

    private void Follow()
    {
        if (following)
            return;
        following = true;
        _ = Notifier.FollowAsync(RefreshInterval, async (changed, ct) =>
        {
            var current = sweep;
            // Another sweep's runs (or a run not yet read) changed: nothing here to redraw.
            if (current is not null && !changed.Any(id => current.Runs.Any(r => r.Id == id)))
                return;
            var fresh = await Service.GetAsync(Id, ct);
            await InvokeAsync(() =>
            {
                sweep = fresh;
                StateHasChanged();
            });
        }, disposed.Token);
    }

    // The source is cancelled, not disposed: the follow loop may still read its token.
    public void Dispose() => disposed.Cancel();
}
