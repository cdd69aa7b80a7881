using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Where a web run's events go: the store first (with the run's final status, atomically, for a terminal
/// event), then the live followers. An event is never broadcast before it is stored. Also keeps the run's
/// summary (accuracy, sizes, ratio) current for the runs table. metrics.jsonl is the runner's to write while
/// it runs (see <see cref="RunMetricsFile"/>); the sink appends to it only once <see cref="WritesMetricsFile"/> is set.
/// </summary>
public sealed class StoreAndBroadcastSink : IRunEventSink
{
    private readonly long runId;
    private readonly IRunStore store;
    private readonly RunEventBroker broker;
    private readonly RunListNotifier notifier;
    private readonly Func<RunStatus> cancelledStatus;
    private readonly string runDirectory;

    public StoreAndBroadcastSink(long runId, IRunStore store, RunEventBroker broker, RunListNotifier notifier, string runDirectory,
        Func<RunStatus> cancelledStatus)
    {
        this.runId = runId;
        this.store = store;
        this.broker = broker;
        this.notifier = notifier;
        this.cancelledStatus = cancelledStatus;
        this.runDirectory = runDirectory;
    }

    /// <summary>Set once the runner has returned: events emitted after that (by the queue) go to metrics.jsonl from here.</summary>
    public bool WritesMetricsFile { get; set; }

    /// <summary>The terminal event's status once one has been emitted.</summary>
    public RunStatus? Outcome { get; private set; }

    public void Emit(RunEvent e)
    {
        var stored = StoredEvent.From(runId, e);
        var completion = RunSummaryValues.Completion(e, e is RunCancelled ? cancelledStatus() : RunStatus.Cancelled);
        var summary = SummaryValues(e);
        if (summary.Count > 0)
            store.UpdateSummaryAsync(runId, summary).GetAwaiter().GetResult();
        store.AppendEventAsync(stored, completion).GetAwaiter().GetResult();
        if (completion is not null)
            Outcome = completion.Status;

        if (WritesMetricsFile)
            RunMetricsFile.Append(runDirectory, stored);

        broker.Publish(stored);
        if (completion is not null || summary.Count > 0 || e is RunStarted)
            notifier.Changed(runId);
    }

    /// <summary>What an event adds to the run's summary.</summary>
    public static Dictionary<string, double> SummaryValues(RunEvent e) => RunSummaryValues.For(e);
}
