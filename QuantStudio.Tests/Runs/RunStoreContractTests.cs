using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Runs;

/// <summary>
/// What every <see cref="IRunStore"/> does, run against each implementation (SQLite, PostgreSQL): a store a subclass gives
/// fresh and empty for each test.
/// </summary>
public abstract class RunStoreContractTests : IAsyncLifetime
{
    /// <summary>A time with whole microseconds (what both stores keep exactly), not in UTC, to see it come back as the same instant.</summary>
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 3, 1, 14, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_560);

    protected IRunStore Store { get; private set; } = null!;

    protected abstract Task<IRunStore> CreateEmptyStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Store = await CreateEmptyStoreAsync();
        await Store.InitializeAsync(); // a second initialization on a live store changes nothing
    }

    public Task DisposeAsync() => DisposeStoreAsync();

    protected static ExperimentSpec Spec(int bits = 4) =>
        new() { Method = "quantized_distillation", Quantization = new QuantizationSpec { Bits = bits } };

    protected Task<RunRecord> CreateAsync(string name = "run", int bits = 4) => Store.CreateRunAsync(new NewRun(name, Spec(bits), T0));

    protected async Task<RunRecord> CreateRunningAsync(string name = "run")
    {
        var run = await CreateAsync(name);
        Assert.True(await Store.TryTransitionAsync(run.Id, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = T0 }));
        return run;
    }

    protected static StoredEvent Log(long runId, long seq, string message = "step") =>
        StoredEvent.From(runId, new LogMessage("info", message) { Seq = seq, Time = T0.AddSeconds(seq) });

    protected static StoredEvent Finished(long runId, long seq) =>
        StoredEvent.From(runId, new RunFinished(new Dictionary<string, double> { ["student_accuracy"] = 0.9 }) { Seq = seq, Time = T0.AddSeconds(seq) });

    [Fact]
    public async Task A_created_run_is_queued_and_reads_back_as_stored()
    {
        var created = await CreateAsync("qd 4-bit", bits: 4);
        var read = await Store.GetRunAsync(created.Id);

        Assert.NotNull(read);
        Assert.Equal(created.Id, read.Id);
        Assert.Equal("qd 4-bit", read.Name);
        Assert.Equal(RunStatus.Queued, read.Status);
        Assert.Equal("quantized_distillation", read.Method);
        Assert.Equal(Spec().Dataset.Name, read.Dataset);
        Assert.Equal(4, read.Bits);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Equal(TimeSpan.Zero, read.CreatedAt.Offset);
        Assert.Null(read.StartedAt);
        Assert.Null(read.FinishedAt);
        Assert.Empty(read.Summary);
        Assert.Null(read.LastError);
        Assert.False(read.Resume);
        Assert.Null(read.SweepId);
        Assert.Equal(4, read.TryReadSpec()!.Quantization.Bits);
        Assert.Null(await Store.GetRunAsync(created.Id + 1000));
    }

    [Fact]
    public async Task A_method_that_does_not_quantize_stores_no_bit_width()
    {
        var run = await Store.CreateRunAsync(new NewRun("distill", new ExperimentSpec { Method = "distillation" }, T0));
        Assert.Null((await Store.GetRunAsync(run.Id))!.Bits);
    }

    [Fact]
    public async Task Runs_are_listed_newest_first()
    {
        var a = await CreateAsync("a");
        var b = await CreateAsync("b");
        var c = await CreateAsync("c");
        Assert.Equal([c.Id, b.Id, a.Id], (await Store.ListRunsAsync()).Select(r => r.Id));
        Assert.True(a.Id < b.Id && b.Id < c.Id);
    }

    [Fact]
    public async Task A_transition_happens_only_from_an_allowed_status_and_sets_what_it_carries()
    {
        var run = await CreateAsync();

        Assert.False(await Store.TryTransitionAsync(run.Id, [RunStatus.Running], new RunTransition(RunStatus.Finished)));
        Assert.Equal(RunStatus.Queued, (await Store.GetRunAsync(run.Id))!.Status);

        Assert.True(await Store.TryTransitionAsync(run.Id, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = T0.AddSeconds(1) }));
        Assert.True(await Store.TryTransitionAsync(run.Id, [RunStatus.Queued, RunStatus.Running],
            new RunTransition(RunStatus.Failed) { FinishedAt = T0.AddSeconds(2), LastError = "diverged" }));
        var failed = (await Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(T0.AddSeconds(1), failed.StartedAt);
        Assert.Equal(T0.AddSeconds(2), failed.FinishedAt);
        Assert.Equal("diverged", failed.LastError);

        // Refused from an ended status; then back to the queue to resume, which clears the finish.
        Assert.False(await Store.TryTransitionAsync(run.Id, [RunStatus.Queued, RunStatus.Running], new RunTransition(RunStatus.Cancelled)));
        Assert.True(await Store.TryTransitionAsync(run.Id, [RunStatus.Failed],
            new RunTransition(RunStatus.Queued) { ClearFinish = true, Resume = true }));
        var queued = (await Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Queued, queued.Status);
        Assert.Null(queued.FinishedAt);
        Assert.Null(queued.LastError);
        Assert.True(queued.Resume);
        Assert.Equal(T0.AddSeconds(1), queued.StartedAt); // a null field leaves the stored value
        Assert.False(await Store.TryTransitionAsync(run.Id + 1000, [RunStatus.Queued], new RunTransition(RunStatus.Running)));
    }

    [Fact]
    public async Task An_appended_terminal_event_and_the_final_status_are_stored_together()
    {
        var run = await CreateRunningAsync();
        await Store.AppendEventAsync(Log(run.Id, 1));
        Assert.Equal(RunStatus.Running, (await Store.GetRunAsync(run.Id))!.Status);

        await Store.AppendEventAsync(Finished(run.Id, 2), new RunTransition(RunStatus.Finished) { FinishedAt = T0.AddSeconds(2) });

        var finished = (await Store.GetRunAsync(run.Id))!;
        Assert.Equal(RunStatus.Finished, finished.Status);
        Assert.Equal(T0.AddSeconds(2), finished.FinishedAt);
        Assert.Equal(2, await Store.GetLastSeqAsync(run.Id));
        Assert.IsType<RunFinished>((await Store.GetLatestEventAsync(run.Id, RunEventJson.RunFinished))!.ToRunEvent());
    }

    [Fact]
    public async Task An_appended_completion_does_not_move_a_run_that_has_ended()
    {
        var run = await CreateRunningAsync();
        Assert.True(await Store.TryTransitionAsync(run.Id, [RunStatus.Running], new RunTransition(RunStatus.Cancelled)));

        await Store.AppendEventAsync(Finished(run.Id, 1), new RunTransition(RunStatus.Finished));

        Assert.Equal(RunStatus.Cancelled, (await Store.GetRunAsync(run.Id))!.Status);
        Assert.Equal(1, await Store.GetLastSeqAsync(run.Id)); // the event is kept, as the run's history
    }

    [Fact]
    public async Task A_refused_completion_stores_nothing_and_an_accepted_one_stores_both()
    {
        var run = await CreateRunningAsync();
        await Store.AppendEventAsync(Log(run.Id, 1));

        Assert.False(await Store.TryCompleteAsync(Finished(run.Id, 2), [RunStatus.Queued], new RunTransition(RunStatus.Finished)));
        Assert.Equal(1, await Store.GetLastSeqAsync(run.Id));
        Assert.Equal(RunStatus.Running, (await Store.GetRunAsync(run.Id))!.Status);

        Assert.True(await Store.TryCompleteAsync(Finished(run.Id, 2), [RunStatus.Running],
            new RunTransition(RunStatus.Finished) { FinishedAt = T0.AddSeconds(2) }));
        Assert.Equal(2, await Store.GetLastSeqAsync(run.Id));
        Assert.Equal(RunStatus.Finished, (await Store.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task Events_read_back_in_pages_with_an_optional_type_filter()
    {
        var run = await CreateRunningAsync();
        for (var seq = 1; seq <= 10; seq++)
        {
            var e = seq % 3 == 0
                ? StoredEvent.From(run.Id, new CheckpointSaved("student", "checkpoint.safetensors", 1, 1000) { Seq = seq, Time = T0.AddSeconds(seq) })
                : Log(run.Id, seq, $"step {seq}");
            await Store.AppendEventAsync(e);
        }

        Assert.Equal([1L, 2, 3, 4], (await Store.ReadEventsAsync(run.Id, 0, 4)).Select(e => e.Seq));
        Assert.Equal([5L, 6, 7, 8], (await Store.ReadEventsAsync(run.Id, 4, 4)).Select(e => e.Seq));
        Assert.Equal([9L, 10], (await Store.ReadEventsAsync(run.Id, 8, 4)).Select(e => e.Seq));
        Assert.Empty(await Store.ReadEventsAsync(run.Id, 10, 4));
        Assert.Equal([3L, 6, 9], (await Store.ReadEventsAsync(run.Id, 0, 100, [RunEventJson.CheckpointSaved])).Select(e => e.Seq));
        Assert.Equal([6L], (await Store.ReadEventsAsync(run.Id, 3, 1, [RunEventJson.CheckpointSaved, "no_such_type"])).Select(e => e.Seq));
        Assert.Equal(10, (await Store.ReadEventsAsync(run.Id, 0, -1)).Count); // a negative limit reads them all
        Assert.Empty(await Store.ReadEventsAsync(run.Id + 1000, 0, 100));

        var fifth = (await Store.ReadEventsAsync(run.Id, 4, 1)).Single();
        Assert.Equal(run.Id, fifth.RunId);
        Assert.Equal(RunEventJson.Log, fifth.Type);
        Assert.Equal(T0.AddSeconds(5), fifth.Time);
        Assert.Equal(Log(run.Id, 5, "step 5").Json, fifth.Json); // byte for byte: the type discriminator stays first
        Assert.Equal("step 5", Assert.IsType<LogMessage>(fifth.ToRunEvent()).Message);
    }

    [Fact]
    public async Task The_latest_event_of_a_type_and_the_last_seq_are_found()
    {
        var run = await CreateRunningAsync();
        Assert.Equal(0, await Store.GetLastSeqAsync(run.Id));
        Assert.Null(await Store.GetLatestEventAsync(run.Id, RunEventJson.Log));

        await Store.AppendEventAsync(Log(run.Id, 1, "first"));
        await Store.AppendEventAsync(Log(run.Id, 2, "second"));
        await Store.AppendEventAsync(StoredEvent.From(run.Id, new PhaseStarted("tutoring", 2, 3) { Seq = 3, Time = T0 }));

        var latest = await Store.GetLatestEventAsync(run.Id, RunEventJson.Log);
        Assert.Equal(2, latest!.Seq);
        Assert.Equal("second", Assert.IsType<LogMessage>(latest.ToRunEvent()).Message);
        Assert.Equal(3, await Store.GetLastSeqAsync(run.Id));
        Assert.Null(await Store.GetLatestEventAsync(run.Id, RunEventJson.RunFinished));
    }

    [Fact]
    public async Task Summary_updates_merge_into_the_stored_values()
    {
        var run = await CreateAsync();
        await Store.UpdateSummaryAsync(run.Id, new Dictionary<string, double> { ["val_accuracy"] = 0.5, ["fp32_bytes"] = 1_000_000 });
        await Store.UpdateSummaryAsync(run.Id, new Dictionary<string, double> { ["val_accuracy"] = 0.123456789012345678, ["packed_bytes"] = 1e-300 });
        await Store.UpdateSummaryAsync(run.Id, new Dictionary<string, double>());
        await Store.UpdateSummaryAsync(run.Id + 1000, new Dictionary<string, double> { ["x"] = 1 }); // no such run: nothing happens

        var summary = (await Store.GetRunAsync(run.Id))!.Summary;
        Assert.Equal(3, summary.Count);
        Assert.Equal(0.123456789012345678, summary["val_accuracy"]); // the same double, bit for bit
        Assert.Equal(1_000_000, summary["fp32_bytes"]);
        Assert.Equal(1e-300, summary["packed_bytes"]);
    }

    [Fact]
    public async Task Deleting_a_run_removes_it_and_its_events_only()
    {
        var doomed = await CreateRunningAsync("doomed");
        var kept = await CreateRunningAsync("kept");
        await Store.AppendEventAsync(Log(doomed.Id, 1));
        await Store.AppendEventAsync(Log(doomed.Id, 2));
        await Store.AppendEventAsync(Log(kept.Id, 1));

        Assert.True(await Store.DeleteRunAsync(doomed.Id));

        Assert.Null(await Store.GetRunAsync(doomed.Id));
        Assert.Empty(await Store.ReadEventsAsync(doomed.Id, 0, 100));
        Assert.Equal(0, await Store.GetLastSeqAsync(doomed.Id));
        Assert.Equal([kept.Id], (await Store.ListRunsAsync()).Select(r => r.Id));
        Assert.Single(await Store.ReadEventsAsync(kept.Id, 0, 100));
        Assert.False(await Store.DeleteRunAsync(doomed.Id));
    }

    [Fact]
    public async Task Runs_left_running_are_marked_interrupted_with_a_stored_event()
    {
        var running = await CreateRunningAsync("running");
        var queued = await CreateAsync("queued");
        for (var i = 1; i <= 3; i++)
            await Store.AppendEventAsync(Log(running.Id, i));
        var at = T0.AddMinutes(10);

        Assert.Equal([running.Id], await Store.MarkRunningAsInterruptedAsync(at));

        var interrupted = (await Store.GetRunAsync(running.Id))!;
        Assert.Equal(RunStatus.Interrupted, interrupted.Status);
        Assert.Equal(at, interrupted.FinishedAt);
        Assert.Contains("server stopped", interrupted.LastError);
        Assert.Equal(RunStatus.Queued, (await Store.GetRunAsync(queued.Id))!.Status);
        var last = (await Store.ReadEventsAsync(running.Id, 3, 10)).Single();
        Assert.Equal(4, last.Seq);
        Assert.Equal(at, last.Time);
        Assert.Contains("server stopped", Assert.IsType<RunCancelled>(last.ToRunEvent()).Reason);
        Assert.Equal(0, await Store.GetLastSeqAsync(queued.Id));
        Assert.Empty(await Store.MarkRunningAsInterruptedAsync(at));
    }

    [Fact]
    public async Task A_sweep_is_stored_with_its_runs_and_each_run_knows_its_sweep()
    {
        var lone = await CreateAsync("lone");
        var runs = new[] { 2, 4, 8 }.Select(b => new NewRun($"bits {b}", Spec(b), T0)).ToList();
        const string axes = """[{"path":"quantization.bits","values":[2,4,8]}]""";

        var (sweep, stored) = await Store.CreateSweepAsync(new NewSweep("bits", """{"method":"quantized_distillation"}""", axes, T0), runs);

        Assert.Equal(["bits 2", "bits 4", "bits 8"], stored.Select(r => r.Name));
        Assert.All(stored, r => Assert.Equal(sweep.Id, r.SweepId));
        Assert.All(stored, r => Assert.Equal(RunStatus.Queued, r.Status));
        Assert.Equal([2, 4, 8], stored.Select(r => r.TryReadSpec()!.Quantization.Bits));
        Assert.Equal([2, 4, 8], stored.Select(r => r.Bits!.Value));
        Assert.Null((await Store.GetRunAsync(lone.Id))!.SweepId);
        Assert.Equal(sweep.Id, (await Store.GetRunAsync(stored[1].Id))!.SweepId);

        var again = await Store.GetSweepAsync(sweep.Id);
        Assert.Equal("bits", again!.Name);
        Assert.Equal(axes, again.AxesJson);
        Assert.Equal("""{"method":"quantized_distillation"}""", again.SpecJson);
        Assert.Equal(T0, again.CreatedAt);
        Assert.Null(await Store.GetSweepAsync(sweep.Id + 1000));
        Assert.Empty(await Store.ListSweepRunsAsync(sweep.Id + 1000));
        Assert.Equal(4, (await Store.ListRunsAsync()).Count);
    }

    [Fact]
    public async Task Sweeps_are_listed_newest_first_and_list_their_runs_not_deleted_in_order()
    {
        var (first, firstRuns) = await Store.CreateSweepAsync(new NewSweep("first", "{}", "[]", T0),
            [new NewRun("a", Spec(2), T0), new NewRun("b", Spec(4), T0), new NewRun("c", Spec(8), T0)]);
        var (second, _) = await Store.CreateSweepAsync(new NewSweep("second", "{}", "[]", T0), [new NewRun("d", Spec(), T0)]);

        Assert.Equal([second.Id, first.Id], (await Store.ListSweepsAsync()).Select(s => s.Id));
        Assert.True(await Store.DeleteRunAsync(firstRuns[1].Id));
        Assert.Equal(["a", "c"], (await Store.ListSweepRunsAsync(first.Id)).Select(r => r.Name));
    }
}

public sealed class SqliteRunStoreContractTests : RunStoreContractTests, IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "qs-store-contract-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IRunStore> CreateEmptyStoreAsync()
    {
        var store = new SqliteRunStore(Path.Combine(dir, "quantstudio.db"));
        await store.InitializeAsync();
        return store;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }
}

public sealed class PostgresRunStoreContractTests(PostgresTestDatabase database)
    : RunStoreContractTests, IClassFixture<PostgresTestDatabase>
{
    private PostgresRunStore? store;

    protected override async Task<IRunStore> CreateEmptyStoreAsync()
    {
        store = new PostgresRunStore(database.StoreOptions());
        await store.InitializeAsync();
        await database.ResetAsync();
        return store;
    }

    protected override async Task DisposeStoreAsync()
    {
        if (store is not null)
            await store.DisposeAsync();
    }
}
