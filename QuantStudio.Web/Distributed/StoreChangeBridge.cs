using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Training;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Distributed;

/// <summary>
/// Keeps a web node live in distributed mode, where workers on other machines store the events: the store's change feed
/// drives the same <see cref="RunEventBroker"/> and <see cref="RunListNotifier"/> the embedded queue feeds. For each followed run
/// it reads the events after the last one it published and publishes them in order, one run at a time, so followers see no
/// gap and no duplicate; after the feed reconnects (notifications may have been lost) it reads every followed run again. It
/// also keeps a copy of each finished run's teacher in the run's folder here, where a spec naming <c>run:&lt;id&gt;</c> is
/// checked, and at start creates the schema and declares the work queue.
/// </summary>
public sealed class StoreChangeBridge(
    IRunStore store,
    IStoreChangeFeed feed,
    RunEventBroker broker,
    RunListNotifier notifier,
    RunWorkQueue queue,
    IArtifactStore artifacts,
    IOptions<QuantStudioOptions> options,
    ILogger<StoreChangeBridge> log) : IHostedService
{
    private const int PageSize = 500;
    private readonly ConcurrentDictionary<long, Cursor> cursors = new();
    private readonly ConcurrentDictionary<long, byte> teachersChecked = new();
    private readonly CancellationTokenSource stopping = new();
    private int stopped;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        feed.EventStored += OnEventStored;
        feed.RunChanged += OnRunChanged;
        feed.Reconnected += OnReconnected;
        await feed.StartAsync(cancellationToken);
        try
        {
            await queue.EnsureQueueAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Runs are published (and the queue declared) once the broker answers; pages work meanwhile.
            log.LogWarning("The work queue '{Queue}' could not be declared yet: {Error}", queue.QueueName, e.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host may stop its services twice (a test server's factory and the app's lifetime both do); the feed stops once.
        if (Interlocked.Exchange(ref stopped, 1) == 1)
            return;
        stopping.Cancel();
        feed.EventStored -= OnEventStored;
        feed.RunChanged -= OnRunChanged;
        feed.Reconnected -= OnReconnected;
        await feed.StopAsync(cancellationToken);
    }

    private void OnEventStored(long runId, long seq)
    {
        var cursor = cursors.GetOrAdd(runId, _ => new Cursor(seq - 1));
        cursor.Notified(seq);
        _ = PumpAsync(runId, cursor);
    }

    private void OnRunChanged(long runId)
    {
        notifier.Changed(runId);
        if (!teachersChecked.ContainsKey(runId))
            _ = CacheTeacherAsync(runId);
    }

    private void OnReconnected()
    {
        log.LogInformation("The store's change feed reconnected; reading the followed runs again");
        foreach (var (runId, cursor) in cursors)
        {
            _ = PumpAsync(runId, cursor);
            notifier.Changed(runId);
        }
        _ = NotifyActiveRunsAsync();
    }

    /// <summary>Publishes the run's stored events after the cursor, in order; one pump per run at a time.</summary>
    private async Task PumpAsync(long runId, Cursor cursor)
    {
        if (!await cursor.Gate.WaitAsync(0))
        {
            // The pump running now reads again before it returns (see the loop's condition).
            cursor.Again = true;
            return;
        }
        try
        {
            do
            {
                cursor.Again = false;
                if (broker.SubscriberCount(runId) == 0)
                {
                    // Nobody follows: a follower that comes later reads the store after subscribing.
                    cursor.Last = Math.Max(cursor.Last, cursor.Highest);
                    continue;
                }
                while (true)
                {
                    var page = await store.ReadEventsAsync(runId, cursor.Last, PageSize, null, stopping.Token);
                    foreach (var e in page)
                    {
                        broker.Publish(e);
                        cursor.Last = e.Seq;
                    }
                    if (page.Count < PageSize)
                        break;
                }
            }
            while (cursor.Again && !stopping.IsCancellationRequested);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            // Followers recheck the store on their own within seconds; the next notification tries again.
            log.LogWarning("Run {RunId}: stored events could not be read for its followers: {Error}", runId, e.Message);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            cursor.Gate.Release();
        }
        // A notification that came while this pump was closing.
        if (cursor.Again && !stopping.IsCancellationRequested)
            _ = PumpAsync(runId, cursor);
    }

    private async Task NotifyActiveRunsAsync()
    {
        try
        {
            foreach (var run in await store.ListRunsAsync(stopping.Token))
                if (run.Status.IsActive())
                    notifier.Changed(run.Id);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            log.LogWarning("The runs could not be listed after the feed reconnected: {Error}", e.Message);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A finished run's teacher, copied into its folder here so that specs naming <c>run:&lt;id&gt;</c> are checked as embedded.</summary>
    private async Task CacheTeacherAsync(long runId)
    {
        try
        {
            var run = await store.GetRunAsync(runId, stopping.Token);
            if (run is null || run.Status.IsActive())
                return;
            teachersChecked[runId] = 0;
            if (run.Status != RunStatus.Finished)
                return;
            var path = Path.Combine(options.Value.RunDirectory(runId), ExperimentRunner.TeacherFileName);
            if (!File.Exists(path))
                await ArtifactFiles.DownloadAsync(artifacts, runId, ExperimentRunner.TeacherFileName, path, stopping.Token);
            // Drop a stale cursor too: the run has ended.
            cursors.TryRemove(runId, out _);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            teachersChecked.TryRemove(runId, out _);
            log.LogWarning("Run {RunId}: its teacher could not be copied from the artifact store: {Error}", runId, e.Message);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class Cursor(long last)
    {
        private long highest = last;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public long Last { get; set; } = last;
        public volatile bool Again;
        public long Highest => Interlocked.Read(ref highest);

        public void Notified(long seq)
        {
            long seen;
            while ((seen = Interlocked.Read(ref highest)) < seq && Interlocked.CompareExchange(ref highest, seq, seen) != seen)
            {
            }
        }
    }
}
