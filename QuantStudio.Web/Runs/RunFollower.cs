using System.Runtime.CompilerServices;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Streams a run's events after a given seq: the stored history first, then live, without a gap or a
/// duplicate. It subscribes to the live feed before reading the store, so an event stored during the
/// replay is either read from the store or waiting in the subscription; live events at or below the
/// last delivered seq are skipped, and a gap (or an overflowed subscription) sends it back to the store.
/// It completes once the run has ended (neither queued nor running) and every stored event was delivered:
/// a terminal event of an earlier attempt (a cancel before a resume) does not end it, only the run's
/// current state does.
/// </summary>
public sealed class RunFollower(IRunStore store, RunEventBroker broker)
{
    /// <summary>Events read from the store per query.</summary>
    public const int PageSize = 500;

    /// <summary>
    /// How long a live follower waits for an event before looking at the store again, so a change that reached it by no
    /// event (the run deleted, say) still ends it.
    /// </summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    public async IAsyncEnumerable<StoredEvent> FollowAsync(long runId, long afterSeq, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var sub = broker.Subscribe(runId);
        var last = Math.Max(0, afterSeq);
        while (true)
        {
            // Catch up from the store.
            while (true)
            {
                var page = await store.ReadEventsAsync(runId, last, PageSize, null, ct);
                foreach (var e in page)
                {
                    yield return e;
                    last = e.Seq;
                }
                if (page.Count < PageSize)
                    break;
            }
            if (await HasEndedAsync(runId, last, ct))
                yield break;

            // Live, until a gap (or a quiet spell) sends us back to the store.
            var backToStore = false;
            while (!backToStore)
            {
                try
                {
                    await sub.WaitAsync(ct).WaitAsync(RecheckInterval, ct);
                }
                catch (TimeoutException)
                {
                    break;
                }
                var batch = sub.Take(out var overflowed);
                foreach (var e in batch)
                {
                    if (e.Seq <= last)
                        continue;
                    if (e.Seq != last + 1)
                    {
                        backToStore = true;
                        break;
                    }
                    yield return e;
                    last = e.Seq;
                    if (e.IsTerminal && await HasEndedAsync(runId, last, ct))
                        yield break;
                }
                backToStore |= overflowed;
            }
        }
    }

    /// <summary>
    /// True when the run is gone, or is over and nothing after <paramref name="last"/> is stored. The status is read first:
    /// a run's terminal event is stored with its status, so once the status says it is over, every event is stored.
    /// </summary>
    private async Task<bool> HasEndedAsync(long runId, long last, CancellationToken ct)
    {
        var run = await store.GetRunAsync(runId, ct);
        if (run is null)
            return true;
        return !run.Status.IsActive() && await store.GetLastSeqAsync(runId, ct) <= last;
    }
}
