using System.Runtime.CompilerServices;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Streams a run's events after a given seq: the stored history first, then live, without a gap or a
/// duplicate. It subscribes to the live feed before reading the store, so an event stored during the
/// replay is either read from the store or waiting in the subscription; live events at or below the
/// last delivered seq are skipped, and a gap (or an overflowed subscription) sends it back to the store.
/// It completes after a terminal event once the run is no longer queued or running (a resumed run
/// continues after the terminal event of its earlier attempt).
/// </summary>
public sealed class RunFollower(IRunStore store, RunEventBroker broker)
{
    /// <summary>Events read from the store per query.</summary>
    public const int PageSize = 500;

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
                    if (e.IsTerminal && await IsOverAsync(runId, ct))
                        yield break;
                }
                if (page.Count < PageSize)
                    break;
            }

            // Live, until a gap sends us back to the store.
            var backToStore = false;
            while (!backToStore)
            {
                await sub.WaitAsync(ct);
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
                    if (e.IsTerminal && await IsOverAsync(runId, ct))
                        yield break;
                }
                backToStore |= overflowed;
            }
        }
    }

    private async Task<bool> IsOverAsync(long runId, CancellationToken ct)
    {
        var run = await store.GetRunAsync(runId, ct);
        return run is null || !run.Status.IsActive();
    }
}
