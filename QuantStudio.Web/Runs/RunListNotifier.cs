namespace QuantStudio.Web.Runs;

/// <summary>
/// Tells run-list followers which runs changed. A follower keeps a set of changed ids rather than a
/// queue of changes, so many quick updates to one run collapse into one and memory stays bounded.
/// </summary>
public sealed class RunListNotifier
{
    private readonly List<RunListSubscription> subs = [];
    private readonly Lock gate = new();

    public RunListSubscription Subscribe()
    {
        var s = new RunListSubscription(this);
        lock (gate)
            subs.Add(s);
        return s;
    }

    /// <summary>
    /// Follows the run list for a page: subscribes now (no change after this call is missed), then at most once per
    /// <paramref name="interval"/> hands <paramref name="onChanged"/> the runs changed since its last call, until
    /// <paramref name="ct"/> is cancelled (the page went away), which ends it quietly.
    /// </summary>
    public Task FollowAsync(TimeSpan interval, Func<IReadOnlyList<long>, CancellationToken, Task> onChanged, CancellationToken ct)
    {
        var sub = Subscribe();
        return Task.Run(async () =>
        {
            using (sub)
            {
                try
                {
                    while (!ct.IsCancellationRequested)
                    {
                        await sub.WaitAsync(ct);
                        await Task.Delay(interval, ct);
                        await onChanged(sub.Take(), ct);
                    }
                }
                catch (Exception ex) when (ct.IsCancellationRequested || ex is ObjectDisposedException)
                {
                    // The page went away.
                }
            }
        }, CancellationToken.None);
    }

    public void Changed(long runId)
    {
        RunListSubscription[] all;
        lock (gate)
            all = [.. subs];
        foreach (var s in all)
            s.Mark(runId);
    }

    internal void Remove(RunListSubscription s)
    {
        lock (gate)
            subs.Remove(s);
    }
}

public sealed class RunListSubscription(RunListNotifier owner) : IDisposable
{
    private readonly HashSet<long> changed = [];
    private readonly Lock gate = new();
    private TaskCompletionSource? waiter;

    internal void Mark(long runId)
    {
        TaskCompletionSource? wake;
        lock (gate)
        {
            changed.Add(runId);
            wake = waiter;
            waiter = null;
        }
        wake?.TrySetResult();
    }

    public IReadOnlyList<long> Take()
    {
        lock (gate)
        {
            var ids = changed.Order().ToArray();
            changed.Clear();
            return ids;
        }
    }

    public Task WaitAsync(CancellationToken ct)
    {
        TaskCompletionSource tcs;
        lock (gate)
        {
            if (changed.Count > 0)
                return Task.CompletedTask;
            waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            tcs = waiter;
        }
        return tcs.Task.WaitAsync(ct);
    }

    public void Dispose() => owner.Remove(this);
}
