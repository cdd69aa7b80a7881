using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using QuantStudio.Web.Api;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Hubs;

/// <summary>
/// /hubs/runs. <see cref="Follow"/> streams every event of a run after a seq, exactly once and in order
/// (history, then live); <see cref="FollowFrames"/> is the same stream batched into frames with step
/// metrics thinned for live charts; <see cref="FollowRuns"/> streams run-list changes.
/// </summary>
public sealed class RunsHub(IRunStore store, RunFollower follower, RunEventFrames frames, RunListNotifier notifier) : Hub
{
    public async IAsyncEnumerable<JsonElement> Follow(long runId, long afterSeq, [EnumeratorCancellation] CancellationToken ct)
    {
        await EnsureRunAsync(runId, ct);
        await foreach (var e in follower.FollowAsync(runId, afterSeq, ct))
            yield return e.Payload;
    }

    public async IAsyncEnumerable<RunEventFrame> FollowFrames(long runId, long afterSeq, [EnumeratorCancellation] CancellationToken ct)
    {
        await EnsureRunAsync(runId, ct);
        await foreach (var f in frames.FollowAsync(runId, afterSeq, ct))
            yield return f;
    }

    /// <summary>Every run first (so a page rendered a moment ago misses nothing), then each change as it happens.</summary>
    public async IAsyncEnumerable<RunListChange> FollowRuns([EnumeratorCancellation] CancellationToken ct)
    {
        using var sub = notifier.Subscribe();
        foreach (var r in await store.ListRunsAsync(ct))
            yield return new RunListChange("upsert", r.Id, RunDto.From(r));
        while (true)
        {
            await sub.WaitAsync(ct);
            foreach (var id in sub.Take())
            {
                var run = await store.GetRunAsync(id, ct);
                yield return run is null ? new RunListChange("deleted", id, null) : new RunListChange("upsert", id, RunDto.From(run));
            }
        }
    }

    private async Task EnsureRunAsync(long runId, CancellationToken ct)
    {
        if (await store.GetRunAsync(runId, ct) is null)
            throw new HubException($"run {runId} does not exist");
    }
}
