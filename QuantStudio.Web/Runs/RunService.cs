using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Runs;

public enum RunCommandResult
{
    Done,
    NotFound,
    /// <summary>The run is not in a state that allows the command (resume a finished run, delete a running one).</summary>
    Conflict,
}

/// <summary>What pages and the API do to runs: create, cancel, resume, delete. Keeps the queue, store and followers in step.</summary>
public sealed class RunService(
    IRunStore store,
    IRunDispatcher queue,
    RunEventBroker broker,
    RunListNotifier notifier,
    IOptions<QuantStudioOptions> options,
    TimeProvider time,
    ILogger<RunService> log)
{
    public async Task<RunRecord> CreateAsync(ExperimentSpec spec, CancellationToken ct = default)
    {
        var name = string.IsNullOrWhiteSpace(spec.Name) ? DefaultName(spec) : spec.Name.Trim();
        var run = await store.CreateRunAsync(new NewRun(name, spec, time.GetUtcNow()), ct);
        await EnqueueAsync(run, ct);
        return run;
    }

    /// <summary>Queues a run already stored as queued (a sweep stores all its runs first) and tells the run list.</summary>
    public async Task EnqueueAsync(RunRecord run, CancellationToken ct = default)
    {
        notifier.Changed(run.Id);
        await queue.EnqueueAsync(run.Id, ct);
    }

    public async Task<RunCommandResult> CancelAsync(long id, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(id, ct);
        if (run is null)
            return RunCommandResult.NotFound;
        if (await queue.CancelAsync(id, ct))
            return RunCommandResult.Done;
        if (run.Status == RunStatus.Queued)
        {
            // The event and the status change are stored together: a follower that sees the run cancelled also sees why.
            var now = time.GetUtcNow();
            var last = await store.GetLastSeqAsync(id, ct);
            var e = StoredEvent.From(id, new RunCancelled("cancelled before it started") { Seq = last + 1, Time = now });
            if (await store.TryCompleteAsync(e, [RunStatus.Queued],
                    new RunTransition(RunStatus.Cancelled) { FinishedAt = now, LastError = "cancelled before it started" }, ct))
            {
                // The queue will skip the run.
                RunMetricsFile.Append(options.Value.RunDirectory(id), e);
                broker.Publish(e);
                notifier.Changed(id);
                return RunCommandResult.Done;
            }
            // It started meanwhile.
            return await queue.CancelAsync(id, ct) ? RunCommandResult.Done : RunCommandResult.Conflict;
        }
        return RunCommandResult.Conflict;
    }

    public async Task<RunCommandResult> ResumeAsync(long id, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(id, ct);
        if (run is null)
            return RunCommandResult.NotFound;
        if (!run.Status.IsResumable())
            return RunCommandResult.Conflict;
        // The terminal event is stored just before the runner returns: a run that already reads cancelled or failed may
        // still be closing its files. Wait for that, as delete does, rather than refuse a resume the page offered.
        if (!await queue.WaitUntilIdleAsync(id, TimeSpan.FromSeconds(10)))
            return RunCommandResult.Conflict;
        var ok = await store.TryTransitionAsync(id, [RunStatus.Interrupted, RunStatus.Cancelled, RunStatus.Failed],
            new RunTransition(RunStatus.Queued) { ClearFinish = true, Resume = true }, ct);
        if (!ok)
            return RunCommandResult.Conflict;
        notifier.Changed(id);
        await queue.EnqueueAsync(id, ct);
        return RunCommandResult.Done;
    }

    public async Task<RunCommandResult> DeleteAsync(long id, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(id, ct);
        if (run is null)
            return RunCommandResult.NotFound;
        // A run being cancelled still counts as running until its runner stops; wait for that rather than refuse. The terminal
        // event is stored just before the runner's task returns; either way give it a moment to close its files.
        if (run.Status.IsActive() && !await queue.IsCancellingAsync(id, ct))
            return RunCommandResult.Conflict;
        if (!await queue.WaitUntilIdleAsync(id, TimeSpan.FromSeconds(10)))
            return RunCommandResult.Conflict;
        if ((await store.GetRunAsync(id, ct))?.Status.IsActive() == true)
            return RunCommandResult.Conflict;
        if (!await store.DeleteRunAsync(id, ct))
            return RunCommandResult.NotFound;
        await queue.RunDeletedAsync(id, ct);
        var dir = options.Value.RunDirectory(id);
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        catch (IOException ex)
        {
            log.LogWarning(ex, "Run {RunId} was deleted but its folder {Dir} could not be removed", id, dir);
        }
        catch (UnauthorizedAccessException ex)
        {
            log.LogWarning(ex, "Run {RunId} was deleted but its folder {Dir} could not be removed", id, dir);
        }
        notifier.Changed(id);
        return RunCommandResult.Done;
    }

    public static string DefaultName(ExperimentSpec spec)
    {
        var bits = Methods.Quantizes(spec.Method) ? $" {spec.Quantization.Bits}-bit" : "";
        return $"{spec.Student.Arch} {spec.Method.Replace('_', ' ')}{bits} on {spec.Dataset.Name}";
    }
}
