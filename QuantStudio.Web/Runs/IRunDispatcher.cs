namespace QuantStudio.Web.Runs;

/// <summary>
/// Where queued runs go to be trained, and how a running one is stopped: <see cref="RunQueue"/> trains them in this process
/// (embedded), the distributed dispatcher publishes them to the work queue of <c>quantstudio worker</c> processes.
/// </summary>
public interface IRunDispatcher
{
    /// <summary>Hands a queued run (already stored) to whoever trains runs.</summary>
    Task EnqueueAsync(long runId, CancellationToken ct = default);

    /// <summary>Asks a running run to stop; false when it is not running.</summary>
    Task<bool> CancelAsync(long runId, CancellationToken ct = default);

    /// <summary>True while a run a user cancelled is still stopping.</summary>
    Task<bool> IsCancellingAsync(long runId, CancellationToken ct = default);

    /// <summary>Waits until nothing trains the run any more (its files are closed), up to <paramref name="timeout"/>.</summary>
    Task<bool> WaitUntilIdleAsync(long runId, TimeSpan timeout);

    /// <summary>After a run is deleted from the store: removes whatever else holds its files (the run folder is the caller's).</summary>
    Task RunDeletedAsync(long runId, CancellationToken ct = default);
}
