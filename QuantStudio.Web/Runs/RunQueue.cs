using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Options;
using QuantStudio.Web.Security;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Owns the queue of runs: executes them with the configured concurrency through the registered
/// <see cref="IExperimentRunner"/>, each with its own cancellation. On start it marks runs a previous
/// process left running as interrupted and requeues the ones still queued.
/// </summary>
public sealed class RunQueue(
    IRunStore store,
    RunEventBroker broker,
    RunListNotifier notifier,
    IExperimentRunner runner,
    RunInputs inputs,
    BoundAddressCheck addressCheck,
    IOptions<QuantStudioOptions> options,
    TimeProvider time,
    ILogger<RunQueue> log) : BackgroundService, IRunDispatcher
{
    private readonly Channel<long> pending = Channel.CreateUnbounded<long>();
    private readonly ConcurrentDictionary<long, ActiveRun> active = new();
    private volatile bool stopping;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        var interrupted = await store.MarkRunningAsInterruptedAsync(time.GetUtcNow(), cancellationToken);
        if (interrupted.Count > 0)
            log.LogWarning("Marked {Count} run(s) left running by an earlier process as interrupted: {Ids}", interrupted.Count, interrupted);
        foreach (var id in interrupted)
            await RunMetricsFile.RewriteAsync(options.Value.RunDirectory(id), store, id, cancellationToken);
        foreach (var run in (await store.ListRunsAsync(cancellationToken)).Where(r => r.Status == RunStatus.Queued).OrderBy(r => r.Id))
            Enqueue(run.Id);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        await base.StopAsync(cancellationToken);
    }

    public void Enqueue(long runId) => pending.Writer.TryWrite(runId);

    public bool IsActive(long runId) => active.ContainsKey(runId);

    /// <summary>True while a run a user cancelled is still stopping (its runner has not returned yet).</summary>
    public bool IsCancelling(long runId) => active.TryGetValue(runId, out var run) && run.UserCancelled;

    /// <summary>Asks a running run to stop; false when it is not running here.</summary>
    public bool Cancel(long runId)
    {
        if (!active.TryGetValue(runId, out var run))
            return false;
        run.UserCancelled = true;
        run.Cancellation.Cancel();
        return true;
    }

    Task IRunDispatcher.EnqueueAsync(long runId, CancellationToken ct)
    {
        Enqueue(runId);
        return Task.CompletedTask;
    }

    Task<bool> IRunDispatcher.CancelAsync(long runId, CancellationToken ct) => Task.FromResult(Cancel(runId));

    Task<bool> IRunDispatcher.IsCancellingAsync(long runId, CancellationToken ct) => Task.FromResult(IsCancelling(runId));

    // The run's folder is all it has, and the caller removes it.
    Task IRunDispatcher.RunDeletedAsync(long runId, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Waits until the run's task has returned (its files are closed), up to <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitUntilIdleAsync(long runId, TimeSpan timeout)
    {
        if (!active.TryGetValue(runId, out var run))
            return true;
        try
        {
            await run.Done.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // No run starts on a server that is about to refuse to serve.
        try
        {
            await addressCheck.Passed.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        var workers = Enumerable.Range(0, Math.Max(1, options.Value.MaxConcurrentRuns)).Select(_ => WorkerAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task WorkerAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in pending.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await ExecuteRunAsync(id, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The run's own failure is recorded by ExecuteRunAsync; this is the store failing. Keep serving the queue.
                    log.LogError(ex, "Run {RunId} could not be executed", id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ExecuteRunAsync(long id, CancellationToken stoppingToken)
    {
        var run = await store.GetRunAsync(id, stoppingToken);
        if (run is null || run.Status != RunStatus.Queued)
            return; // deleted or cancelled while queued

        var spec = run.TryReadSpec();
        var started = await store.TryTransitionAsync(id, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = time.GetUtcNow() },
            stoppingToken);
        if (!started)
            return;
        notifier.Changed(id);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var entry = new ActiveRun(cts);
        active[id] = entry;
        TrainingMemory.RunStarted();
        try
        {
            var dir = options.Value.RunDirectory(id);
            Directory.CreateDirectory(dir);
            var lastSeq = await store.GetLastSeqAsync(id, CancellationToken.None);
            // A run stopped by the server shutting down is interrupted (resumable), not cancelled.
            RunStatus CancelledStatus() => stopping && !entry.UserCancelled ? RunStatus.Interrupted : RunStatus.Cancelled;
            var sink = new StoreAndBroadcastSink(id, store, broker, notifier, dir, CancelledStatus);
            var stream = new RunEventStream([sink], time, lastSeq);

            string? failure = null;
            var cancelled = false;
            var (resolved, inputError) = spec is null ? (null, null) : await inputs.ResolveAsync(spec, CancellationToken.None);
            if (spec is null)
            {
                failure = "the stored spec could not be read";
            }
            else if (resolved is null)
            {
                failure = inputError!.ToString();
            }
            else
            {
                var context = new RunContext(resolved, dir, stream, run.Resume, options.Value.ResolvedDataDirectory);
                try
                {
                    // The runner may compute synchronously for a long time; keep it off the queue's thread.
                    await Task.Run(() => runner.RunAsync(context, cts.Token), CancellationToken.None);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    cancelled = true;
                }
                catch (Exception ex)
                {
                    failure = ex.Message;
                    log.LogWarning(ex, "Run {RunId} failed", id);
                }
            }

            // The runner's contract is to end with a terminal event; make sure the stream and the status do. The runner has
            // returned, so the file it wrote is the sink's to append to.
            if (sink.Outcome is null)
            {
                sink.WritesMetricsFile = true;
                if (failure is not null)
                    stream.Emit(new RunFailed(failure));
                else if (cancelled)
                    stream.Emit(new RunCancelled(stopping && !entry.UserCancelled
                        ? "the server stopped; resume the run to continue from its last checkpoint"
                        : "cancelled by the user"));
                else
                    stream.Emit(new RunFinished(new Dictionary<string, double>()));
            }
        }
        finally
        {
            TrainingMemory.RunEnded();
            active.TryRemove(id, out _);
            entry.Done.TrySetResult();
            notifier.Changed(id);
        }
    }

    private sealed class ActiveRun(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public volatile bool UserCancelled;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
