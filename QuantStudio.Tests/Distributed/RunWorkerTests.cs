using System.Reflection;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Tests.Runs;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// The worker's handling of one delivery, against the real PostgreSQL store with scripted runners: claims, the watch of a run
/// another worker holds, take-over and resume, failures, cancel, a store that fails, a worker that stops.
/// </summary>
public sealed class RunWorkerTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private DistributedStores stores = null!;
    private readonly string workDir = Path.Combine(Path.GetTempPath(), "qs-worker-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync() => stores = await DistributedStores.OpenAsync(db);

    public async Task DisposeAsync()
    {
        await stores.DisposeAsync();
        if (Directory.Exists(workDir))
            Directory.Delete(workDir, true);
    }

    private RunWorker Worker(IExperimentRunner runner, string name = "w1", int maxAttempts = 3, IRunStore? store = null) =>
        new(store ?? stores.Store, stores.Store, stores.Feed, stores.Artifacts, runner, stores.Settings(name, Path.Combine(workDir, name), maxAttempts));

    private static async Task<byte[]?> ReadArtifactAsync(IArtifactStore artifacts, long runId, string name)
    {
        await using var s = await artifacts.OpenReadAsync(runId, name);
        if (s is null)
            return null;
        using var m = new MemoryStream();
        await s.CopyToAsync(m);
        return m.ToArray();
    }

    private async Task<IReadOnlyList<StoredEvent>> EventsAsync(long runId) => await stores.Store.ReadEventsAsync(runId, 0, 10_000);

    private static void AssertContiguous(IReadOnlyList<StoredEvent> events) =>
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));

    [Fact]
    public async Task AClaimedRun_StoresItsEventsAsEmitted_AndItsFilesBeforeTheEventsThatAnnounceThem()
    {
        var run = await stores.CreateRunAsync();
        var checkpointSeenInStore = false;
        var runner = new LambdaRunner(async (c, ct) =>
        {
            c.Events.Emit(new LogMessage("info", "training"));
            var checkpoint = Path.Combine(c.OutputDirectory, TrainingCheckpoint.FileName);
            await File.WriteAllTextAsync(checkpoint, "checkpoint after epoch 1", ct);
            c.Events.Emit(new CheckpointSaved("training", checkpoint, 1, 24));
            // Emitting returned: the checkpoint is in the artifact store and the event in the store.
            checkpointSeenInStore = await ReadArtifactAsync(stores.Artifacts, run.Id, TrainingCheckpoint.FileName) is not null &&
                                    (await stores.Store.GetLastSeqAsync(run.Id)) == 2;
            await File.WriteAllTextAsync(Path.Combine(c.OutputDirectory, ExperimentRunner.ModelFileName), "the model", ct);
            await File.WriteAllTextAsync(Path.Combine(c.OutputDirectory, ExperimentRunner.SummaryFileName), "{}", ct);
            c.Events.Emit(new RunFinished(new Dictionary<string, double> { ["student_accuracy"] = 0.5 }));
        });

        Assert.Equal(DeliveryVerdict.Ack, await Worker(runner).HandleAsync(run.Id, CancellationToken.None));

        Assert.True(checkpointSeenInStore);
        var stored = (await stores.Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Finished, stored.Status);
        Assert.Equal(0.5, stored.Accuracy);
        var events = await EventsAsync(run.Id);
        AssertContiguous(events);
        Assert.Equal([RunEventJson.Log, RunEventJson.CheckpointSaved, RunEventJson.RunFinished], events.Select(e => e.Type));
        Assert.Equal("the model"u8.ToArray(), await ReadArtifactAsync(stores.Artifacts, run.Id, ExperimentRunner.ModelFileName));
        // metrics.jsonl in the artifact store holds every stored event, the terminal one included.
        var metrics = System.Text.Encoding.UTF8.GetString((await ReadArtifactAsync(stores.Artifacts, run.Id, RunMetricsFile.FileName))!);
        Assert.Equal(events.Select(e => e.Json), metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(stores.Settings("w1", Path.Combine(workDir, "w1")).RunDirectory(run.Id)));
    }

    [Fact]
    public async Task ARunThatFailsOnTheWorker_IsFailedWithItsError_AndAcknowledged()
    {
        var run = await stores.CreateRunAsync();
        var runner = new LambdaRunner((c, ct) =>
        {
            c.Events.Emit(new RunFailed("dataset.subset: 9 images cannot fill a batch"));
            throw new RunInputException("dataset.subset: 9 images cannot fill a batch");
        });

        Assert.Equal(DeliveryVerdict.Ack, await Worker(runner).HandleAsync(run.Id, CancellationToken.None));

        var stored = (await stores.Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Failed, stored.Status);
        Assert.Equal("dataset.subset: 9 images cannot fill a batch", stored.LastError);
        // The message comes again only if it was not acknowledged; if it did, the run is over.
        Assert.Equal(DeliveryVerdict.Ack, await Worker(runner, "w2").HandleAsync(run.Id, CancellationToken.None));
        Assert.Equal(1, runner.Calls);
    }

    [Fact]
    public async Task ARunWhoseWorkersKeepDying_IsFailedOnceItsAttemptsAreUsed()
    {
        var run = await stores.CreateRunAsync();
        var longAgo = DateTimeOffset.UtcNow.AddHours(-1);
        for (var i = 1; i <= 3; i++)
        {
            var claim = await stores.Store.ClaimAsync(run.Id, $"dead-{i}", 3, TimeSpan.FromSeconds(3), longAgo.AddMinutes(i));
            Assert.Equal(ClaimOutcome.Claimed, claim.Outcome);
        }
        var runner = new LambdaRunner((_, _) => Task.CompletedTask);

        Assert.Equal(DeliveryVerdict.Ack, await Worker(runner).HandleAsync(run.Id, CancellationToken.None));

        var stored = (await stores.Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Failed, stored.Status);
        Assert.Contains("stopped 3 times", stored.LastError);
        Assert.Equal(0, runner.Calls);
        var events = await EventsAsync(run.Id);
        Assert.Equal(RunEventJson.RunFailed, Assert.Single(events).Type);
    }

    [Fact]
    public async Task ASecondDeliveryOfARunALiveWorkerTrains_WaitsUntilItEnds_AndTrainsNothing()
    {
        var run = await stores.CreateRunAsync();
        Assert.Equal(ClaimOutcome.Claimed, (await stores.Store.ClaimAsync(run.Id, "other", 3, TimeSpan.FromSeconds(3), DateTimeOffset.UtcNow)).Outcome);
        using var stopBeats = new CancellationTokenSource();
        var beats = Task.Run(async () =>
        {
            while (!stopBeats.IsCancellationRequested)
            {
                await stores.Store.HeartbeatAsync(run.Id, "other", DateTimeOffset.UtcNow);
                await Task.Delay(300);
            }
        });
        var runner = new LambdaRunner((_, _) => Task.CompletedTask);

        var handling = Worker(runner).HandleAsync(run.Id, CancellationToken.None);
        // Longer than a stale heartbeat would take (3 s): the live holder keeps the run.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.False(handling.IsCompleted);

        var now = DateTimeOffset.UtcNow;
        var done = StoredEvent.From(run.Id, new RunFinished(new Dictionary<string, double>()) { Seq = 1, Time = now });
        Assert.True(await stores.Store.TryCompleteAsync(done, [RunStatus.Running], new RunTransition(RunStatus.Finished) { FinishedAt = now }));
        Assert.Equal(DeliveryVerdict.Ack, await handling.WaitAsync(TimeSpan.FromSeconds(5)));
        await stopBeats.CancelAsync();
        await beats;
        Assert.Equal(0, runner.Calls);
    }

    [Fact]
    public async Task AWaitForAnotherWorkersRun_EndsWhenTheDeliveryWentBackToTheQueue()
    {
        var run = await stores.CreateRunAsync();
        Assert.Equal(ClaimOutcome.Claimed, (await stores.Store.ClaimAsync(run.Id, "other", 3, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow)).Outcome);
        var runner = new LambdaRunner((_, _) => Task.CompletedTask);
        var held = true;

        var handling = Worker(runner).HandleAsync(run.Id, CancellationToken.None, () => held);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(handling.IsCompleted);
        // The broker closed the channel (a consumer_timeout): the message is someone else's to handle now.
        held = false;

        Assert.Equal(DeliveryVerdict.Requeue, await handling.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, runner.Calls);
        Assert.Equal(RunStatus.Running, (await stores.Store.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task ARunWhoseWorkerStopsBeating_IsTakenOver_AndResumesFromTheCheckpointThatWorkerStored()
    {
        var run = await stores.CreateRunAsync();
        Assert.Equal(ClaimOutcome.Claimed, (await stores.Store.ClaimAsync(run.Id, "dead", 3, TimeSpan.FromSeconds(3), DateTimeOffset.UtcNow)).Outcome);
        // What the dead worker left: a checkpoint in the artifact store and the event that announced it.
        await stores.Artifacts.PutAsync(run.Id, TrainingCheckpoint.FileName, new MemoryStream("epoch 2 of 3"u8.ToArray()));
        await stores.Store.AppendEventAsync(StoredEvent.From(run.Id, new CheckpointSaved("training", "/elsewhere/checkpoint.safetensors", 2, 12)
            { Seq = 1, Time = DateTimeOffset.UtcNow }));
        RunContext? given = null;
        string? checkpoint = null;
        var runner = new LambdaRunner(async (c, ct) =>
        {
            given = c;
            checkpoint = await File.ReadAllTextAsync(Path.Combine(c.OutputDirectory, TrainingCheckpoint.FileName), ct);
            c.Events.Emit(new RunFinished(new Dictionary<string, double>()));
        });

        var started = DateTimeOffset.UtcNow;
        Assert.Equal(DeliveryVerdict.Ack, await Worker(runner, "w2").HandleAsync(run.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(2), "taken over before the holder's heartbeat went stale");
        Assert.True(given!.Resume);
        Assert.Equal("epoch 2 of 3", checkpoint);
        var events = await EventsAsync(run.Id);
        AssertContiguous(events);
        Assert.Equal("resumed on worker w2 from the checkpoint at epoch 2 after the previous worker stopped",
            events[1].Payload.GetProperty("message").GetString());
        Assert.Equal(RunStatus.Finished, (await stores.Store.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task ACancelRequest_StopsTheRunningRun_WithinSeconds()
    {
        var run = await stores.CreateRunAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new LambdaRunner(async (c, ct) =>
        {
            c.Events.Emit(new LogMessage("info", "training"));
            started.TrySetResult();
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(5), ct);
            }
            catch (OperationCanceledException)
            {
                c.Events.Emit(new RunCancelled("cancelled; resume the run to continue from its last checkpoint"));
                throw;
            }
        });

        // A heartbeat of 10 s: the change feed, not the heartbeat's check, brings the request.
        var worker = new RunWorker(stores.Store, stores.Store, stores.Feed, stores.Artifacts, runner, stores.Settings("w1", workDir, heartbeatSeconds: 10));
        var handling = worker.HandleAsync(run.Id, CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var asked = DateTimeOffset.UtcNow;
        Assert.True(await stores.Store.RequestCancelAsync(run.Id));

        Assert.Equal(DeliveryVerdict.Ack, await handling.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(DateTimeOffset.UtcNow - asked < TimeSpan.FromSeconds(3));
        Assert.Equal(RunStatus.Cancelled, (await stores.Store.GetRunAsync(run.Id))!.Status);
        Assert.Equal(RunEventJson.RunCancelled, (await EventsAsync(run.Id))[^1].Type);
    }

    [Fact]
    public async Task AStoreThatFailsForGood_StopsTheWorkerWithoutAcknowledging()
    {
        var run = await stores.CreateRunAsync();
        var failing = FailingAppends.Wrap(stores.Store, failFromSeq: 3);
        var runner = new LambdaRunner((c, ct) =>
        {
            for (var i = 0; i < 5; i++)
                c.Events.Emit(new LogMessage("info", $"step {i}"));
            c.Events.Emit(new RunFinished(new Dictionary<string, double>()));
            return Task.CompletedTask;
        });

        await Assert.ThrowsAsync<WorkerStoreException>(() => Worker(runner, store: failing).HandleAsync(run.Id, CancellationToken.None));

        // Nothing pretends the run ended: it is still running, with the events stored before the failure, and the next worker
        // takes it over once its heartbeat is stale.
        Assert.Equal(RunStatus.Running, (await stores.Store.GetRunAsync(run.Id))!.Status);
        Assert.Equal([1L, 2L], (await EventsAsync(run.Id)).Select(e => e.Seq));
    }

    [Fact]
    public async Task AWorkerThatStops_PutsItsRunBackInTheQueue()
    {
        var run = await stores.CreateRunAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new LambdaRunner(async (c, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(5), ct);
            }
            catch (OperationCanceledException)
            {
                c.Events.Emit(new RunCancelled("cancelled; resume the run to continue from its last checkpoint"));
                throw;
            }
        });
        using var stopping = new CancellationTokenSource();

        var handling = Worker(runner).HandleAsync(run.Id, stopping.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await stopping.CancelAsync();

        Assert.Equal(DeliveryVerdict.Requeue, await handling.WaitAsync(TimeSpan.FromSeconds(10)));
        var stored = (await stores.Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Queued, stored.Status);
        Assert.True(stored.Resume);
        Assert.DoesNotContain(await EventsAsync(run.Id), e => e.Type == RunEventJson.RunCancelled);
    }

    /// <summary>A store whose appends fail from one seq on, as one whose server stays away longer than its retries.</summary>
    public class FailingAppends : DispatchProxy
    {
        private IRunStore inner = null!;
        private long failFromSeq;

        public static IRunStore Wrap(IRunStore inner, long failFromSeq)
        {
            var proxy = Create<IRunStore, FailingAppends>();
            var self = (FailingAppends)(object)proxy;
            self.inner = inner;
            self.failFromSeq = failFromSeq;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IRunStore.AppendEventAsync) && args![0] is StoredEvent e && e.Seq >= failFromSeq)
                return Task.FromException(new Npgsql.NpgsqlException("the server stayed away"));
            try
            {
                return method.Invoke(inner, args);
            }
            catch (TargetInvocationException t)
            {
                throw t.InnerException!;
            }
        }
    }
}
