using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Training;

namespace QuantStudio.Core.Distributed;

/// <summary>
/// What a worker does with one run the queue hands it. It claims the run in the shared store first:
/// <list type="bullet">
/// <item>ended (finished, failed, cancelled, deleted): nothing to do, the message is acknowledged;</item>
/// <item>its attempts used up (the workers that took it kept dying): the run is failed, saying so;</item>
/// <item>held by another live worker (the message came again while that worker trains, after a consumer_timeout or a broker
/// restart): the message is held until the run ends, or until its holder's heartbeat goes stale and this worker takes it over;</item>
/// <item>claimed: the run trains here. Its files come from the artifact store (the checkpoint a previous worker saved, the
/// teacher), the trainer resumes from the checkpoint on a second attempt, its events continue the run's numbering and go to the
/// store as they are emitted (see <see cref="WorkerRunSink"/>), a heartbeat proves the hold every few seconds and looks for a
/// cancel request, which the store's change feed also delivers at once.</item>
/// </list>
/// The message is acknowledged only once the run's terminal event is stored. A store that fails for good stops the worker
/// (<see cref="WorkerStoreException"/>) without an acknowledgement; a worker that stops puts its run back in the queue.
/// </summary>
public sealed class RunWorker(
    IRunStore store,
    IRunClaims claims,
    IStoreChangeFeed feed,
    IArtifactStore artifacts,
    IExperimentRunner runner,
    WorkerSettings settings,
    TimeProvider? time = null,
    ILogger? log = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;
    private readonly ILogger log = log ?? NullLogger.Instance;

    public WorkerSettings Settings => settings;

    /// <summary>Handles one delivery of the queue and acknowledges or requeues it (see the class comment).</summary>
    public async Task HandleDeliveryAsync(RunDelivery delivery, CancellationToken stopping)
    {
        if (delivery.RunId is not { } runId)
        {
            log.LogWarning("A message of the queue names no run; dropped");
            await delivery.RejectAsync();
            return;
        }
        var verdict = await HandleAsync(runId, stopping, () => delivery.IsHeld);
        if (verdict == DeliveryVerdict.Requeue)
            await delivery.RequeueAsync();
        else if (!await delivery.AckAsync())
            log.LogInformation("Run {RunId}: the channel closed before the acknowledgement; the message comes again and finds the run ended", runId);
    }

    /// <summary>
    /// Claims the run and trains it, waits for its holder, or fails it (see the class comment). <paramref name="stillHeld"/> says
    /// whether the delivery is still this worker's: a wait for another worker's run ends when it is not (the broker closed the
    /// channel, after a consumer_timeout say, and the message went back to the queue).
    /// </summary>
    public async Task<DeliveryVerdict> HandleAsync(long runId, CancellationToken stopping, Func<bool>? stillHeld = null)
    {
        var watching = false;
        while (true)
        {
            if (stopping.IsCancellationRequested)
                return DeliveryVerdict.Requeue;
            var claim = await claims.ClaimAsync(runId, settings.Name, settings.MaxAttempts, settings.StaleAfter, time.GetUtcNow(), stopping);
            switch (claim.Outcome)
            {
                case ClaimOutcome.Ended:
                    log.LogInformation("Run {RunId} has ended; its message is done", runId);
                    return DeliveryVerdict.Ack;
                case ClaimOutcome.AttemptsExhausted:
                    await FailExhaustedAsync(runId, claim, stopping);
                    return DeliveryVerdict.Ack;
                case ClaimOutcome.HeldElsewhere:
                    if (!watching)
                        log.LogInformation("Run {RunId} is trained by {Holder}; waiting until it ends or its heartbeat stops", runId, claim.Holder);
                    watching = true;
                    if (!await WaitForChangeAsync(runId, stopping))
                        return DeliveryVerdict.Requeue;
                    if (stillHeld?.Invoke() == false)
                    {
                        log.LogInformation("Run {RunId}: the delivery went back to the queue while its holder trains; no longer waiting", runId);
                        return DeliveryVerdict.Requeue;
                    }
                    continue;
                case ClaimOutcome.Claimed:
                    return await TrainAsync(claim, stopping);
                default:
                    throw new InvalidOperationException($"unknown claim outcome {claim.Outcome}");
            }
        }
    }

    /// <summary>Waits for the run to change or for a heartbeat interval; false when the worker is stopping.</summary>
    private async Task<bool> WaitForChangeAsync(long runId, CancellationToken stopping)
    {
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(long id)
        {
            if (id == runId)
                changed.TrySetResult();
        }
        feed.RunChanged += OnChange;
        try
        {
            await changed.Task.WaitAsync(settings.Heartbeat, stopping);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            feed.RunChanged -= OnChange;
        }
        return true;
    }

    private async Task FailExhaustedAsync(long runId, RunClaim claim, CancellationToken ct)
    {
        var used = Math.Max(claim.Attempt, settings.MaxAttempts);
        var error = string.Create(CultureInfo.InvariantCulture,
            $"the run's worker stopped {used} times (the last one was {claim.Holder ?? "unknown"}); it is not retried again " +
            $"(QuantStudio:Distributed:MaxAttempts = {settings.MaxAttempts}). Resume it to try once more");
        var now = time.GetUtcNow();
        var e = StoredEvent.From(runId, new RunFailed(error) { Seq = await store.GetLastSeqAsync(runId, ct) + 1, Time = now });
        if (await store.TryCompleteAsync(e, [RunStatus.Running, RunStatus.Queued], new RunTransition(RunStatus.Failed) { FinishedAt = now, LastError = error }, ct))
            log.LogWarning("Run {RunId} failed: {Error}", runId, error);
    }

    private async Task<DeliveryVerdict> TrainAsync(RunClaim claim, CancellationToken stopping)
    {
        var run = claim.Run ?? throw new InvalidOperationException("a claim without its run");
        var runId = run.Id;
        var dir = settings.RunDirectory(runId);
        log.LogInformation("Run {RunId} ({Name}): attempt {Attempt} starts on {Worker}", runId, run.Name, claim.Attempt, settings.Name);
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            return await TrainInAsync(dir, run, claim.Attempt, stopping);
        }
        finally
        {
            try
            {
                if (Directory.Exists(dir))
                    Directory.Delete(dir, recursive: true);
            }
            catch (IOException e)
            {
                log.LogWarning("Run {RunId}: its work folder {Dir} could not be removed: {Error}", runId, dir, e.Message);
            }
        }
    }

    private async Task<DeliveryVerdict> TrainInAsync(string dir, RunRecord run, int attempt, CancellationToken stopping)
    {
        var runId = run.Id;
        var sink = new WorkerRunSink(runId, store, artifacts, dir);
        var stream = new RunEventStream([sink], time, await store.GetLastSeqAsync(runId, stopping));
        // A run a worker already started resumes from the checkpoint that worker left, whichever machine it was on.
        var resume = run.Resume || attempt > 1;
        string? failure = null;
        ExperimentSpec? resolved = null;

        using var cts = new CancellationTokenSource();
        var userCancelled = false;
        var lostHold = false;
        var workerStopping = false;
        void OnCancelRequested(long id)
        {
            if (id != runId)
                return;
            userCancelled = true;
            cts.Cancel();
        }
        // The worker stopping is not the run ending: the runner's RunCancelled is dropped and the run goes back to the queue.
        using var onStop = stopping.Register(() =>
        {
            if (userCancelled)
                return;
            workerStopping = true;
            sink.DropCancelled();
            cts.Cancel();
        });
        feed.CancelRequested += OnCancelRequested;
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.CompletedTask;
        var cancelled = false;
        try
        {
            // The hold is proven from the claim on: fetching a large checkpoint may take longer than a stale heartbeat.
            heartbeat = HeartbeatLoopAsync(runId, sink, cts, () => lostHold = true, () => OnCancelRequested(runId), heartbeatStop.Token);
            if (run.TryReadSpec() is not { } spec)
                failure = "the stored spec could not be read";
            else
                (resolved, failure) = await PrepareAsync(dir, runId, spec, resume, stopping);
            if (failure is null && attempt > 1)
                stream.Emit(new LogMessage("warning", await TakeOverLineAsync(runId, dir, stopping)));
            if (failure is null && await claims.IsCancelRequestedAsync(runId, stopping))
                OnCancelRequested(runId);
            if (failure is null)
            {
                var context = new RunContext(resolved!, dir, stream, resume, settings.DataDirectory);
                try
                {
                    await Task.Run(() => runner.RunAsync(context, cts.Token), CancellationToken.None);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    cancelled = true;
                }
                catch (Exception e) when (sink.StoreFailure is null)
                {
                    failure = e.Message;
                    log.LogWarning("Run {RunId} failed: {Error}", runId, e.Message);
                }
                catch (Exception) when (sink.StoreFailure is not null)
                {
                    // Reported below.
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped while the run's files were fetched: it goes back to the queue below.
            workerStopping = true;
        }
        finally
        {
            feed.CancelRequested -= OnCancelRequested;
            heartbeatStop.Cancel();
            await heartbeat;
        }

        if (sink.StoreFailure is { } storeFailure)
            throw new WorkerStoreException($"run {runId}: the store failed while the run trained; its message is not acknowledged: {storeFailure.Message}", storeFailure);
        if (lostHold)
        {
            log.LogWarning("Run {RunId}: this worker no longer holds the run (deleted, or taken over after a stale heartbeat); stopped", runId);
            return DeliveryVerdict.Ack;
        }
        if (workerStopping && sink.Outcome is null)
        {
            await PutBackAsync(runId, stream);
            return DeliveryVerdict.Requeue;
        }
        if (sink.Outcome is null)
        {
            // The runner's contract is to end with a terminal event; make sure the run does.
            if (failure is not null)
                stream.Emit(new RunFailed(failure));
            else if (cancelled)
                stream.Emit(new RunCancelled("cancelled by the user"));
            else
                stream.Emit(new RunFinished(new Dictionary<string, double>()));
            if (sink.StoreFailure is { } late)
                throw new WorkerStoreException($"run {runId}: its terminal event could not be stored: {late.Message}", late);
        }
        log.LogInformation("Run {RunId} ended: {Status}", runId, sink.Outcome?.ToName());
        return DeliveryVerdict.Ack;
    }

    /// <summary>
    /// The spec as the trainer reads it here (dataset root under this worker's data folder, the teacher as a local file) and the
    /// files a resume needs; or why the run cannot train. An artifact store that fails is not the run's fault: that throws.
    /// </summary>
    private async Task<(ExperimentSpec? Spec, string? Failure)> PrepareAsync(string dir, long runId, ExperimentSpec spec, bool resume,
        CancellationToken ct)
    {
        var resolved = spec;
        try
        {
            if (!string.IsNullOrWhiteSpace(spec.Dataset.Root))
                resolved = resolved with
                {
                    Dataset = spec.Dataset with { Root = Path.Combine(settings.DataDirectory, "datasets", spec.Dataset.Root.Trim()) },
                };
            if (Methods.UsesTeacher(spec.Method) && spec.Teacher?.Checkpoint is { } reference && !string.IsNullOrWhiteSpace(reference))
            {
                if (SharedTeachers.Locate(reference) is not { } location)
                    return (null, $"teacher.checkpoint: '{reference}' names no teacher; give an upload's name or run:<id>");
                var local = Path.Combine(dir, "inputs", "teacher.safetensors");
                if (!await ArtifactFiles.DownloadAsync(artifacts, location.RunId, location.Name, local, ct))
                    return (null, location.RunId == SharedTeachers.UploadsRunId
                        ? $"teacher.checkpoint: the upload '{reference}' is not in the shared artifact store; upload the teacher again"
                        : $"teacher.checkpoint: run {location.RunId} has no teacher in the shared artifact store");
                resolved = resolved with { Teacher = spec.Teacher with { Checkpoint = local } };
            }
            if (resume)
            {
                await ArtifactFiles.DownloadAsync(artifacts, runId, TrainingCheckpoint.FileName, Path.Combine(dir, TrainingCheckpoint.FileName), ct);
                await ArtifactFiles.DownloadAsync(artifacts, runId, ExperimentRunner.TeacherFileName, Path.Combine(dir, ExperimentRunner.TeacherFileName), ct);
                // The trainer counts attempts and appends to metrics.jsonl: give it the run's history so far.
                await RunMetricsFile.RewriteAsync(dir, store, runId, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new WorkerStoreException($"run {runId}: its files could not be read from the artifact store: {e.Message}", e);
        }
        return (resolved, null);
    }

    /// <summary>The log line a run taken over from a worker that stopped starts with.</summary>
    private async Task<string> TakeOverLineAsync(long runId, string dir, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(dir, TrainingCheckpoint.FileName)))
            return $"restarted on worker {settings.Name} from the beginning after the previous worker stopped (it had saved no checkpoint)";
        var saved = await store.ReadEventsAsync(runId, 0, int.MaxValue, [RunEventJson.CheckpointSaved], ct);
        var epoch = saved.Select(e => e.Payload)
            .Where(p => p.TryGetProperty("kind", out var k) && k.GetString() == "training")
            .Select(p => p.TryGetProperty("epoch", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : 0)
            .LastOrDefault();
        return string.Create(CultureInfo.InvariantCulture,
            $"resumed on worker {settings.Name} from the checkpoint at epoch {epoch} after the previous worker stopped");
    }

    private async Task HeartbeatLoopAsync(long runId, WorkerRunSink sink, CancellationTokenSource run, Action lost, Action cancelRequested,
        CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(settings.Heartbeat, time, ct);
                try
                {
                    if (!await claims.HeartbeatAsync(runId, settings.Name, time.GetUtcNow(), ct))
                    {
                        // Ended by this worker's own terminal event a moment ago, or no longer ours.
                        if (sink.Outcome is null)
                        {
                            sink.Mute();
                            lost();
                            run.Cancel();
                        }
                        return;
                    }
                    if (await claims.IsCancelRequestedAsync(runId, ct))
                        cancelRequested();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The store is restarting, say: training goes on, and the next heartbeat tries again.
                    log.LogWarning("Run {RunId}: heartbeat failed ({Error}); trying again", runId, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>The worker is stopping: the run goes back to the queue (its next worker resumes from the last checkpoint).</summary>
    private async Task PutBackAsync(long runId, RunEventStream stream)
    {
        stream.Emit(new LogMessage("warning", $"worker {settings.Name} stopped; the run goes back to the queue and resumes from its last checkpoint"));
        if (await store.TryTransitionAsync(runId, [RunStatus.Running], new RunTransition(RunStatus.Queued) { Resume = true }, CancellationToken.None))
            log.LogInformation("Run {RunId} went back to the queue", runId);
    }
}
