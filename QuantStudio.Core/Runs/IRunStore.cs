namespace QuantStudio.Core.Runs;

/// <summary>
/// Runs and their events. SQLite is the embedded default (<see cref="SqliteRunStore"/>); a shared
/// deployment can put PostgreSQL behind the same interface.
/// </summary>
public interface IRunStore
{
    /// <summary>Creates the schema if needed.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    Task<RunRecord> CreateRunAsync(NewRun run, CancellationToken ct = default);
    Task<RunRecord?> GetRunAsync(long id, CancellationToken ct = default);
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(CancellationToken ct = default);

    /// <summary>Stores a sweep and all its runs (queued, each with the sweep's id) in one transaction: all or nothing.</summary>
    Task<(SweepRecord Sweep, IReadOnlyList<RunRecord> Runs)> CreateSweepAsync(NewSweep sweep, IReadOnlyList<NewRun> runs,
        CancellationToken ct = default);

    Task<SweepRecord?> GetSweepAsync(long id, CancellationToken ct = default);

    /// <summary>Every sweep, newest first.</summary>
    Task<IReadOnlyList<SweepRecord>> ListSweepsAsync(CancellationToken ct = default);

    /// <summary>The sweep's runs (those not deleted), in the order they were expanded.</summary>
    Task<IReadOnlyList<RunRecord>> ListSweepRunsAsync(long sweepId, CancellationToken ct = default);

    /// <summary>Removes the run and its events; false when it does not exist.</summary>
    Task<bool> DeleteRunAsync(long id, CancellationToken ct = default);

    /// <summary>Moves a run to <paramref name="to"/> only if its status is one of <paramref name="from"/>; false otherwise.</summary>
    Task<bool> TryTransitionAsync(long id, IReadOnlyCollection<RunStatus> from, RunTransition to, CancellationToken ct = default);

    /// <summary>Merges values into the run's summary.</summary>
    Task UpdateSummaryAsync(long id, IReadOnlyDictionary<string, double> values, CancellationToken ct = default);

    /// <summary>
    /// Appends one event. When <paramref name="completion"/> is given (the run's terminal event), the status
    /// changes in the same transaction, so a reader that sees the terminal event also sees the final status.
    /// </summary>
    Task AppendEventAsync(StoredEvent e, RunTransition? completion = null, CancellationToken ct = default);

    /// <summary>
    /// Appends a run's terminal event and applies <paramref name="completion"/> in one transaction, only if the run's status is
    /// one of <paramref name="from"/>; false (and nothing stored) otherwise.
    /// </summary>
    Task<bool> TryCompleteAsync(StoredEvent e, IReadOnlyCollection<RunStatus> from, RunTransition completion, CancellationToken ct = default);

    /// <summary>Events with seq &gt; <paramref name="afterSeq"/>, in order, at most <paramref name="limit"/>; optionally only some types.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long runId, long afterSeq, int limit, IReadOnlyCollection<string>? types = null, CancellationToken ct = default);

    /// <summary>The last event of a type (the latest compression report, say), or null.</summary>
    Task<StoredEvent?> GetLatestEventAsync(long runId, string type, CancellationToken ct = default);

    /// <summary>The last stored seq of a run (0 when none), where a resumed run continues numbering.</summary>
    Task<long> GetLastSeqAsync(long runId, CancellationToken ct = default);

    /// <summary>
    /// Marks runs left running by a previous process as interrupted, each with a stored <c>run_cancelled</c> event saying so
    /// (in the same transaction); returns their ids.
    /// </summary>
    Task<IReadOnlyList<long>> MarkRunningAsInterruptedAsync(DateTimeOffset at, CancellationToken ct = default);
}

/// <summary>A status change and what comes with it. Null fields leave the stored value as it is.</summary>
public sealed record RunTransition(RunStatus Status)
{
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Clears the finish time and last error (a run going back to the queue).</summary>
    public bool ClearFinish { get; init; }
    public string? LastError { get; init; }
    public bool? Resume { get; init; }
}
