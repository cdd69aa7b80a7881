namespace QuantStudio.Core.Runs;

/// <summary>
/// What workers sharing one store need beyond <see cref="IRunStore"/>: taking a run, proving they still hold it, and
/// learning that a user asked to cancel it.
/// </summary>
public interface IRunClaims
{
    /// <summary>
    /// Takes a run for <paramref name="worker"/> in one transaction: a queued run, or a running one whose holder stopped
    /// sending heartbeats for longer than <paramref name="staleAfter"/> (its worker died), becomes running with one more
    /// attempt, this worker and a fresh heartbeat.
    /// </summary>
    Task<RunClaim> ClaimAsync(long runId, string worker, int maxAttempts, TimeSpan staleAfter, DateTimeOffset now,
        CancellationToken ct = default);

    /// <summary>Renews the holder's heartbeat; false when the run is no longer running or held by another worker.</summary>
    Task<bool> HeartbeatAsync(long runId, string worker, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Records that a user asked to cancel an active run (and tells listeners); false when it is not active.</summary>
    Task<bool> RequestCancelAsync(long runId, CancellationToken ct = default);

    Task<bool> IsCancelRequestedAsync(long runId, CancellationToken ct = default);
}

public enum ClaimOutcome
{
    /// <summary>The run is this worker's now; <see cref="RunClaim.Attempt"/> counts from 1.</summary>
    Claimed,
    /// <summary>The run has ended (finished, failed, cancelled) or was deleted: nothing to do.</summary>
    Ended,
    /// <summary>Another worker holds the run and its heartbeat is fresh.</summary>
    HeldElsewhere,
    /// <summary>The run has used all its attempts (its workers kept dying): the caller fails it.</summary>
    AttemptsExhausted,
}

public sealed record RunClaim(ClaimOutcome Outcome, int Attempt, RunRecord? Run, string? Holder = null);

/// <summary>
/// Changes that any process made to a shared store, as they happen (PostgreSQL LISTEN/NOTIFY), so a web node follows runs
/// that other processes train without polling each of them.
/// </summary>
public interface IStoreChangeFeed
{
    /// <summary>An event was stored: the run and the event's seq.</summary>
    event Action<long, long>? EventStored;

    /// <summary>A run was created, changed status or summary, or was deleted.</summary>
    event Action<long>? RunChanged;

    /// <summary>A user asked to cancel the run.</summary>
    event Action<long>? CancelRequested;

    /// <summary>The feed lost its connection and is back: notifications may have been missed, so re-read what you follow.</summary>
    event Action? Reconnected;

    Task StartAsync(CancellationToken ct = default);

    Task StopAsync(CancellationToken ct = default);
}
