using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Api;
using QuantStudio.Web.Components.Runs;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Components.Pages;

/// <summary>
/// A run, live: the stored events are replayed into a <see cref="RunView"/> and the live ones follow without a gap (the
/// hub's <see cref="RunEventFrames"/>: at most a few frames a second, step metrics thinned); the charts extend with each
/// frame. The actions act in place. After a restart the browser reloads the page and the replay rebuilds it.
/// </summary>
public partial class RunDetail
{
    private readonly CancellationTokenSource disposed = new();
    private RunView view = new();
    private RunRecord? run;
    private ExperimentSpec? spec;
    private IReadOnlyList<ArtifactDto> artifacts = [];
    private string? selectedLayer;
    private string? message;
    /// <summary>When set, <see cref="message"/> holds while the run has this status ("Queued to resume" while it is queued).</summary>
    private RunStatus? messageWhile;
    private bool loaded;
    private bool following;
    private long followedSeq;

    [Parameter] public long Id { get; set; }

    [Inject] private IRunStore Store { get; set; } = default!;
    [Inject] private RunService Service { get; set; } = default!;
    [Inject] private RunEventFrames Frames { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private IOptions<QuantStudioOptions> Options { get; set; } = default!;
    [Inject] private ILogger<RunDetail> Log { get; set; } = default!;
    [Inject] private QuantStudio.Web.Distributed.RunDownloads Downloads { get; set; } = default!;

    /// <summary>The page's model, for tests.</summary>
    internal RunView View => view;

    protected override async Task OnParametersSetAsync()
    {
        if (loaded && run?.Id == Id)
            return;
        // Another run in the same circuit (a link from one run to another): start over.
        view = new RunView();
        followedSeq = 0;
        selectedLayer = null;
        message = null;
        messageWhile = null;
        await LoadRecordAsync();
        loaded = true;
        if (RendererInfo.IsInteractive)
            StartFollowing();
    }

    private async Task LoadRecordAsync()
    {
        run = await Store.GetRunAsync(Id, disposed.Token);
        spec = run?.TryReadSpec();
        artifacts = run is null ? [] : await Downloads.ListAsync(Id, disposed.Token);
        if (messageWhile is { } status && run?.Status != status)
        {
            message = null;
            messageWhile = null;
        }
    }

    /// <summary>Replays the events after the last one followed, then follows live until the run has ended.</summary>
    private void StartFollowing()
    {
        if (following || run is null || disposed.IsCancellationRequested)
            return;
        following = true;
        var runId = run.Id;
        var after = followedSeq;
        var ct = disposed.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in Frames.FollowAsync(runId, after, ct))
                {
                    var events = frame.Events.Select(RunEventJson.Deserialize).OfType<RunEvent>().ToList();
                    await InvokeAsync(() => ApplyAsync(events, frame.LastSeq));
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.LogWarning(ex, "Following run {RunId} stopped", runId);
            }
            if (ct.IsCancellationRequested)
                return;
            try
            {
                await InvokeAsync(async () =>
                {
                    following = false;
                    await LoadRecordAsync();
                    // Resumed while the replay of the previous attempt was ending: follow the new attempt.
                    if (run?.Status.IsActive() == true)
                        StartFollowing();
                    StateHasChanged();
                });
            }
            catch (Exception ex) when (ct.IsCancellationRequested || ex is ObjectDisposedException)
            {
                // The page went away as the run ended.
            }
        }, CancellationToken.None);
    }

    /// <summary>Applies one frame; the record (status, summary) and the files are read again when the events say they changed.</summary>
    internal async Task ApplyAsync(IReadOnlyList<RunEvent> events, long lastSeq)
    {
        foreach (var e in events)
            view.Apply(e);
        followedSeq = Math.Max(followedSeq, lastSeq);
        // "Cancelling." is over. A notice tied to a status ("Queued to resume") goes when the record leaves it: the
        // terminal event of the attempt before the resume may arrive after the resume was queued.
        if (messageWhile is null && events.Any(e => e.IsTerminal))
            message = null;
        if (events.Any(e => e is RunStarted or CheckpointSaved or EpochMetrics || e.IsTerminal))
            await LoadRecordAsync();
        StateHasChanged();
    }

    private async Task CancelAsync() => await ActAsync("cancel", Service.CancelAsync);

    private async Task ResumeAsync()
    {
        await ActAsync("resume", Service.ResumeAsync);
        StartFollowing();
    }

    private async Task DeleteAsync()
    {
        if (await Service.DeleteAsync(Id) == RunCommandResult.Done)
        {
            Nav.NavigateTo("/runs");
            return;
        }
        message = $"Cannot delete a run that is {run?.Status.ToName()}.";
        messageWhile = null;
        await LoadRecordAsync();
    }

    private async Task ActAsync(string action, Func<long, CancellationToken, Task<RunCommandResult>> command)
    {
        var result = await command(Id, disposed.Token);
        message = result switch
        {
            RunCommandResult.Done => action == "cancel" ? "Cancelling." : "Queued to resume from the last checkpoint.",
            RunCommandResult.NotFound => "The run no longer exists.",
            _ => $"Cannot {action} a run that is {run?.Status.ToName()}.",
        };
        // The run may have started already (the queue was free): then the notice goes at once.
        messageWhile = result == RunCommandResult.Done && action == "resume" ? RunStatus.Queued : null;
        await LoadRecordAsync();
    }

    // The source is cancelled, not disposed: a follow loop or an update still under way may read its token.
    public void Dispose() => disposed.Cancel();
}
