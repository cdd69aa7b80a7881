using System.Diagnostics;
using Npgsql;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Runs;

/// <summary>What the PostgreSQL store adds to the contract: many processes at once, a server that goes away, retries.</summary>
public sealed class PostgresRunStoreTests(PostgresTestDatabase database) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly List<Exception> retried = [];
    private PostgresRunStore store = null!;

    public async Task InitializeAsync()
    {
        store = new PostgresRunStore(database.StoreOptions() with { OnRetry = (ex, _) => { lock (retried) retried.Add(ex); } });
        await store.InitializeAsync();
        await database.ResetAsync();
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private async Task<RunRecord> RunningAsync()
    {
        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), T0));
        Assert.True(await store.TryTransitionAsync(run.Id, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = T0 }));
        return run;
    }

    private static StoredEvent Log(long runId, long seq, string message = "step") =>
        StoredEvent.From(runId, new LogMessage("info", message) { Seq = seq, Time = T0.AddTicks(seq * 10) });

    private async Task<long> CountEventsAsync(long runId)
    {
        await using var c = await database.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM events WHERE run_id = @run;", c);
        cmd.Parameters.AddWithValue("run", runId);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Processes_starting_together_on_a_new_database_make_the_schema_once()
    {
        var fresh = new PostgresTestDatabase();
        await fresh.InitializeAsync();
        try
        {
            var stores = Enumerable.Range(0, 6).Select(_ => new PostgresRunStore(fresh.StoreOptions())).ToList();
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync())));
            await stores[0].InitializeAsync();

            var run = await stores[1].CreateRunAsync(new NewRun("after", new ExperimentSpec(), T0));
            Assert.Equal([run.Id], (await stores[2].ListRunsAsync()).Select(r => r.Id));
            foreach (var s in stores)
                await s.DisposeAsync();
        }
        finally
        {
            await fresh.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_event_stored_again_identically_counts_once_and_a_different_one_is_refused_by_run_and_seq()
    {
        var run = await RunningAsync();
        await store.AppendEventAsync(Log(run.Id, 1, "first"));

        await store.AppendEventAsync(Log(run.Id, 1, "first")); // a retry after a commit whose answer was lost
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendEventAsync(Log(run.Id, 1, "other")));

        Assert.Contains($"run {run.Id}", error.Message);
        Assert.Contains("seq 1", error.Message);
        Assert.Equal(1, await CountEventsAsync(run.Id));
        Assert.Equal("first", Assert.IsType<LogMessage>((await store.ReadEventsAsync(run.Id, 0, 10)).Single().ToRunEvent()).Message);
    }

    [Fact]
    public async Task A_refused_event_rolls_back_the_completion_stored_with_it()
    {
        var run = await RunningAsync();
        await store.AppendEventAsync(Log(run.Id, 1, "first"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.TryCompleteAsync(
            StoredEvent.From(run.Id, new RunFinished(new Dictionary<string, double>()) { Seq = 1, Time = T0 }),
            [RunStatus.Running], new RunTransition(RunStatus.Finished)));

        Assert.Equal(RunStatus.Running, (await store.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task An_append_whose_connection_the_server_ends_midway_succeeds_on_retry_and_stores_the_event_once()
    {
        var application = "qs-store-" + Guid.NewGuid().ToString("N")[..8];
        await using var own = new PostgresRunStore(database.StoreOptions() with
        {
            ConnectionString = database.ConnectionStringFor(application),
            OnRetry = (ex, _) => { lock (retried) retried.Add(ex); },
        });
        var run = await RunningAsync();
        await own.AppendEventAsync(Log(run.Id, 1));

        // Another session holds the run's row, so the append inserts its event and then waits to finish the run ...
        await using var holder = await database.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM runs WHERE id = @id FOR UPDATE;", holder, hold))
        {
            lockRow.Parameters.AddWithValue("id", run.Id);
            await lockRow.ExecuteNonQueryAsync();
        }
        var append = own.AppendEventAsync(Log(run.Id, 2), new RunTransition(RunStatus.Finished) { FinishedAt = T0 });
        await WaitForLockWaitAsync(application);

        // ... when the server ends its connection (as a restart does), with the event written but not committed.
        Assert.True(await database.TerminateConnectionsAsync(application) >= 1);
        await Task.Delay(300); // the retry opens a new connection and waits for the row again
        await hold.RollbackAsync();
        await append.WaitAsync(TimeSpan.FromSeconds(15));

        var failure = Assert.IsType<PostgresException>(Assert.Single(retried));
        Assert.Equal("57P01", failure.SqlState);
        Assert.Equal(2, await CountEventsAsync(run.Id));
        Assert.Equal([1L, 2], (await store.ReadEventsAsync(run.Id, 0, 10)).Select(e => e.Seq));
        Assert.Equal(RunStatus.Finished, (await store.GetRunAsync(run.Id))!.Status);
    }

    private async Task WaitForLockWaitAsync(string application)
    {
        await using var c = await database.OpenConnectionAsync();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await using var cmd = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = @app AND wait_event_type = 'Lock';", c);
            cmd.Parameters.AddWithValue("app", application);
            if ((long)(await cmd.ExecuteScalarAsync())! > 0)
                return;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no connection of {application} waited for the row lock");
    }

    [Fact]
    public async Task A_server_that_stays_away_fails_the_operation_after_the_retry_window()
    {
        // Nothing listens on port 1: every attempt is refused at once.
        var nowhere = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = 1 }.ConnectionString;
        await using var unreachable = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = nowhere, RetryFor = TimeSpan.FromSeconds(1.5) });

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => unreachable.GetRunAsync(1));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.7), TimeSpan.FromSeconds(10));
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task A_starting_web_node_interrupts_only_runs_whose_worker_stopped_beating()
    {
        var staleAfter = TimeSpan.FromMinutes(2); // the store's default
        var alive = await store.CreateRunAsync(new NewRun("alive", new ExperimentSpec(), T0));
        var dead = await store.CreateRunAsync(new NewRun("dead", new ExperimentSpec(), T0));
        var local = await RunningAsync(); // started without a worker: its process was the one that stopped
        Assert.Equal(ClaimOutcome.Claimed, (await store.ClaimAsync(alive.Id, "worker-a", 3, staleAfter, T0)).Outcome);
        Assert.Equal(ClaimOutcome.Claimed, (await store.ClaimAsync(dead.Id, "worker-b", 3, staleAfter, T0)).Outcome);
        var now = T0.AddMinutes(3);
        Assert.True(await store.HeartbeatAsync(alive.Id, "worker-a", now.AddSeconds(-10)));

        var marked = await store.MarkRunningAsInterruptedAsync(now);

        Assert.Equal([dead.Id, local.Id], marked.Order());
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync(alive.Id))!.Status);
        Assert.Equal(RunStatus.Interrupted, (await store.GetRunAsync(dead.Id))!.Status);
        Assert.IsType<RunCancelled>((await store.GetLatestEventAsync(dead.Id, RunEventJson.RunCancelled))!.ToRunEvent());
        Assert.False(await store.HeartbeatAsync(dead.Id, "worker-b", now)); // should its worker come back
        Assert.Equal(0, await store.GetLastSeqAsync(alive.Id));
    }

    [Fact]
    public async Task Summary_values_merged_by_many_processes_at_once_are_all_kept()
    {
        var run = await RunningAsync();
        var others = Enumerable.Range(0, 4).Select(_ => new PostgresRunStore(database.StoreOptions())).ToList();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            others[i % others.Count].UpdateSummaryAsync(run.Id, new Dictionary<string, double> { [$"k{i}"] = i }))));

        var summary = (await store.GetRunAsync(run.Id))!.Summary;
        Assert.Equal(40, summary.Count);
        Assert.All(Enumerable.Range(0, 40), i => Assert.Equal(i, summary[$"k{i}"]));
        foreach (var s in others)
            await s.DisposeAsync();
    }

    [Fact]
    public async Task Times_are_kept_to_the_microsecond()
    {
        var precise = T0.AddTicks(1_234_567); // 123456.7 microseconds
        var run = await store.CreateRunAsync(new NewRun("precise", new ExperimentSpec(), precise));
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "x") { Seq = 1, Time = precise }));

        Assert.Equal(T0.AddTicks(1_234_560), (await store.GetRunAsync(run.Id))!.CreatedAt);
        Assert.Equal(T0.AddTicks(1_234_560), (await store.ReadEventsAsync(run.Id, 0, 1)).Single().Time);
        // Stored again with the full-precision time, as a retry would: the same event.
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "x") { Seq = 1, Time = precise }));
    }
}
