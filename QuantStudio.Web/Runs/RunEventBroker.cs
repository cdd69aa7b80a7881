using System.Collections.Concurrent;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Live fan-out of a run's events to its followers, after the events are stored. Each subscription
/// holds a bounded queue: a follower that falls behind is told it overflowed and catches up from the
/// store, so memory stays bounded and no follower misses an event.
/// </summary>
public sealed class RunEventBroker
{
    private readonly ConcurrentDictionary<long, List<RunEventSubscription>> byRun = new();

    /// <summary>Events a subscription buffers before it overflows.</summary>
    public int SubscriptionCapacity { get; set; } = 4096;

    public RunEventSubscription Subscribe(long runId)
    {
        // Lists stay in the map once created (a few bytes per run), so adding never races a removal.
        var sub = new RunEventSubscription(this, runId, SubscriptionCapacity);
        var list = byRun.GetOrAdd(runId, _ => []);
        lock (list)
            list.Add(sub);
        return sub;
    }

    public void Publish(StoredEvent e)
    {
        if (!byRun.TryGetValue(e.RunId, out var list))
            return;
        RunEventSubscription[] subs;
        lock (list)
            subs = [.. list];
        foreach (var s in subs)
            s.Offer(e);
    }

    /// <summary>Number of live subscriptions, for tests and diagnostics.</summary>
    public int SubscriberCount(long runId)
    {
        if (!byRun.TryGetValue(runId, out var list))
            return 0;
        lock (list)
            return list.Count;
    }

    internal void Unsubscribe(RunEventSubscription sub)
    {
        if (!byRun.TryGetValue(sub.RunId, out var list))
            return;
        lock (list)
            list.Remove(sub);
    }
}

/// <summary>One follower's live queue. Dispose to unsubscribe.</summary>
public sealed class RunEventSubscription : IDisposable
{
    private readonly RunEventBroker broker;
    private readonly int capacity;
    private readonly Queue<StoredEvent> queue = new();
    private readonly Lock gate = new();
    private bool overflowed;
    private TaskCompletionSource? waiter;

    internal RunEventSubscription(RunEventBroker broker, long runId, int capacity)
    {
        this.broker = broker;
        RunId = runId;
        this.capacity = capacity;
    }

    public long RunId { get; }

    internal void Offer(StoredEvent e)
    {
        TaskCompletionSource? wake;
        lock (gate)
        {
            // Once overflowed, drop until the follower takes the batch: it re-reads the store anyway.
            if (overflowed || queue.Count >= capacity)
                overflowed = true;
            else
                queue.Enqueue(e);
            wake = waiter;
            waiter = null;
        }
        wake?.TrySetResult();
    }

    /// <summary>Takes everything buffered. <paramref name="overflowed"/> says events after the batch were dropped.</summary>
    public IReadOnlyList<StoredEvent> Take(out bool overflowed)
    {
        lock (gate)
        {
            var batch = queue.ToArray();
            queue.Clear();
            overflowed = this.overflowed;
            this.overflowed = false;
            return batch;
        }
    }

    /// <summary>Completes when there is something to take.</summary>
    public Task WaitAsync(CancellationToken ct)
    {
        TaskCompletionSource tcs;
        lock (gate)
        {
            if (queue.Count > 0 || overflowed)
                return Task.CompletedTask;
            waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            tcs = waiter;
        }
        return tcs.Task.WaitAsync(ct);
    }

    public void Dispose() => broker.Unsubscribe(this);
}
