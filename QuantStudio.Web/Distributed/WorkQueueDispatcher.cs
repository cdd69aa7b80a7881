using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Distributed;

/// <summary>
/// The web node's dispatcher in distributed mode: a queued run is published to the RabbitMQ work queue (after the teacher upload
/// it names is put where workers find it), a cancel is a request stored with the run that its worker sees within a heartbeat
/// (at once through the change feed), a deleted run's files leave the artifact store. A publish the broker does not confirm in
/// time is not lost: it is retried in the background until it is (the run waits queued meanwhile).
/// </summary>
public sealed class WorkQueueDispatcher(
    RunWorkQueue queue,
    IRunStore store,
    IRunClaims claims,
    IArtifactStore artifacts,
    IOptions<QuantStudioOptions> options,
    ILogger<WorkQueueDispatcher> log) : IRunDispatcher, IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, byte> unpublished = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock retryGate = new();
    private Task retry = Task.CompletedTask;
    private int disposed;

    /// <summary>Runs whose publish is still being retried, for tests and diagnostics.</summary>
    public IReadOnlyCollection<long> Unpublished => unpublished.Keys.ToList();

    public async Task EnqueueAsync(long runId, CancellationToken ct = default)
    {
        // The request may end before the broker answers; the run must reach the queue anyway.
        try
        {
            await ShareTeacherUploadAsync(runId, stopping.Token);
            await queue.PublishAsync(runId, stopping.Token);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            log.LogWarning("Run {RunId} could not be published to the work queue yet ({Error}); retrying in the background", runId, e.Message);
            unpublished[runId] = 0;
            StartRetrying();
        }
    }

    public async Task<bool> CancelAsync(long runId, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(runId, ct);
        // A queued run is cancelled in the store by the caller (its message then finds it ended).
        return run?.Status == RunStatus.Running && await claims.RequestCancelAsync(runId, ct);
    }

    public async Task<bool> IsCancellingAsync(long runId, CancellationToken ct = default) =>
        (await store.GetRunAsync(runId, ct))?.Status.IsActive() == true && await claims.IsCancelRequestedAsync(runId, ct);

    public async Task<bool> WaitUntilIdleAsync(long runId, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var run = await store.GetRunAsync(runId);
            if (run is null || !run.Status.IsActive())
                return true;
            if (DateTimeOffset.UtcNow >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    public Task RunDeletedAsync(long runId, CancellationToken ct = default) => artifacts.DeleteRunAsync(runId, ct);

    /// <summary>
    /// Uploads live on this node's disk (and are checked there when a spec names one); workers read the teacher a run names
    /// from the artifact store, under <see cref="SharedTeachers.UploadsRunId"/>. Uploads are named by their content, so one
    /// already there is the same file.
    /// </summary>
    private async Task ShareTeacherUploadAsync(long runId, CancellationToken ct)
    {
        var spec = (await store.GetRunAsync(runId, ct))?.TryReadSpec();
        if (spec is null || !Methods.UsesTeacher(spec.Method) || spec.Teacher?.Checkpoint is not { } reference ||
            SharedTeachers.Locate(reference) is not { RunId: SharedTeachers.UploadsRunId } location)
            return;
        var local = Path.Combine(options.Value.UploadsDirectory, location.Name);
        if (!File.Exists(local))
            return; // refused when the spec was checked; the worker says so if it was removed since
        var stored = await artifacts.ListAsync(SharedTeachers.UploadsRunId, ct);
        if (stored.Any(a => a.Name == location.Name))
            return;
        await ArtifactFiles.UploadAsync(artifacts, SharedTeachers.UploadsRunId, location.Name, local, ct);
    }

    private void StartRetrying()
    {
        lock (retryGate)
        {
            if (retry.IsCompleted)
                retry = Task.Run(RetryLoopAsync);
        }
    }

    private async Task RetryLoopAsync()
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            lock (retryGate)
            {
                // Decided under the lock StartRetrying takes: a run added after this starts a new loop.
                if (unpublished.IsEmpty || stopping.IsCancellationRequested)
                {
                    retry = Task.CompletedTask;
                    return;
                }
            }
            try
            {
                await Task.Delay(delay, stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            foreach (var runId in unpublished.Keys.Order().ToList())
            {
                try
                {
                    var run = await store.GetRunAsync(runId, stopping.Token);
                    if (run?.Status == RunStatus.Queued)
                    {
                        await ShareTeacherUploadAsync(runId, stopping.Token);
                        await queue.PublishAsync(runId, stopping.Token);
                        log.LogInformation("Run {RunId} is published to the work queue", runId);
                    }
                    unpublished.TryRemove(runId, out _);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    log.LogWarning("Run {RunId} still cannot be published ({Error})", runId, e.Message);
                    break;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, it is disposed twice.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
            return;
        stopping.Cancel();
        try
        {
            await retry;
        }
        catch (OperationCanceledException)
        {
        }
        stopping.Dispose();
    }
}
