using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Runs;

public sealed class PostgresRunClaimsTests(PostgresTestDatabase database) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);
    private PostgresRunStore store = null!;

    public async Task InitializeAsync()
    {
        store = new PostgresRunStore(database.StoreOptions());
        await store.InitializeAsync();
    }

    public async Task DisposeAsync() => await store.DisposeAsync();

    private Task<RunRecord> QueueAsync() => store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), T0));

    [Fact]
    public async Task A_queued_run_is_claimed_once_and_a_second_worker_finds_it_held()
    {
        var run = await QueueAsync();

        var first = await store.ClaimAsync(run.Id, "worker-a", maxAttempts: 3, Stale, T0);
        var second = await store.ClaimAsync(run.Id, "worker-b", maxAttempts: 3, Stale, T0.AddSeconds(5));

        Assert.Equal(ClaimOutcome.Claimed, first.Outcome);
        Assert.Equal(1, first.Attempt);
        Assert.Equal(RunStatus.Running, first.Run!.Status);
        Assert.Equal(T0, first.Run.StartedAt);
        Assert.Equal("worker-a", first.Holder);
        Assert.Equal(ClaimOutcome.HeldElsewhere, second.Outcome);
        Assert.Equal("worker-a", second.Holder);
        Assert.Equal(1, second.Attempt);
        Assert.True(await store.HeartbeatAsync(run.Id, "worker-a", T0.AddSeconds(20)));
        Assert.False(await store.HeartbeatAsync(run.Id, "worker-b", T0.AddSeconds(20)));
        // Kept alive by the heartbeat: still held 40 s after the claim.
        Assert.Equal(ClaimOutcome.HeldElsewhere, (await store.ClaimAsync(run.Id, "worker-b", 3, Stale, T0.AddSeconds(40))).Outcome);
    }

    [Fact]
    public async Task Workers_claiming_one_run_at_once_get_it_exactly_once()
    {
        var run = await QueueAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 6)
            .Select(i => Task.Run(() => store.ClaimAsync(run.Id, $"worker-{i}", 3, Stale, T0))));

        var winner = Assert.Single(claims, c => c.Outcome == ClaimOutcome.Claimed);
        Assert.All(claims.Where(c => c != winner), c => Assert.Equal(ClaimOutcome.HeldElsewhere, c.Outcome));
        Assert.All(claims.Where(c => c != winner), c => Assert.Equal(winner.Holder, c.Holder));
    }

    [Fact]
    public async Task A_run_whose_worker_stopped_beating_is_taken_over_as_attempt_two()
    {
        var run = await QueueAsync();
        await store.ClaimAsync(run.Id, "worker-a", 3, Stale, T0);

        var takeover = await store.ClaimAsync(run.Id, "worker-b", 3, Stale, T0 + Stale + TimeSpan.FromSeconds(1));

        Assert.Equal(ClaimOutcome.Claimed, takeover.Outcome);
        Assert.Equal(2, takeover.Attempt);
        Assert.Equal("worker-b", takeover.Holder);
        Assert.Equal(T0, takeover.Run!.StartedAt); // the run started with its first attempt
        Assert.False(await store.HeartbeatAsync(run.Id, "worker-a", T0.AddMinutes(1))); // the old holder learns it lost the run
        Assert.True(await store.HeartbeatAsync(run.Id, "worker-b", T0.AddMinutes(1)));
    }

    [Fact]
    public async Task A_run_that_used_its_attempts_is_not_claimed_again()
    {
        var run = await QueueAsync();
        var t = T0;
        Assert.Equal(1, (await store.ClaimAsync(run.Id, "worker-a", 2, Stale, t)).Attempt);
        t += Stale + TimeSpan.FromSeconds(1);
        Assert.Equal(2, (await store.ClaimAsync(run.Id, "worker-b", 2, Stale, t)).Attempt);
        t += Stale + TimeSpan.FromSeconds(1);

        var third = await store.ClaimAsync(run.Id, "worker-c", 2, Stale, t);

        Assert.Equal(ClaimOutcome.AttemptsExhausted, third.Outcome);
        Assert.Equal(2, third.Attempt);
        Assert.Equal("worker-b", third.Holder);
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync(run.Id))!.Status); // the caller fails it
    }

    [Fact]
    public async Task An_ended_or_deleted_run_is_not_claimed()
    {
        var run = await QueueAsync();
        Assert.True(await store.TryTransitionAsync(run.Id, [RunStatus.Queued], new RunTransition(RunStatus.Cancelled)));

        var ended = await store.ClaimAsync(run.Id, "worker-a", 3, Stale, T0);
        var missing = await store.ClaimAsync(run.Id + 1000, "worker-a", 3, Stale, T0);

        Assert.Equal(ClaimOutcome.Ended, ended.Outcome);
        Assert.Equal(RunStatus.Cancelled, ended.Run!.Status);
        Assert.Equal(ClaimOutcome.Ended, missing.Outcome);
        Assert.Null(missing.Run);
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task A_run_back_in_the_queue_starts_its_attempts_afresh()
    {
        var run = await QueueAsync();
        await store.ClaimAsync(run.Id, "worker-a", 1, Stale, T0);
        await store.AppendEventAsync(StoredEvent.From(run.Id, new RunFailed("out of memory") { Seq = 1, Time = T0 }),
            new RunTransition(RunStatus.Failed) { FinishedAt = T0 });
        Assert.True(await store.TryTransitionAsync(run.Id, [RunStatus.Failed], new RunTransition(RunStatus.Queued) { ClearFinish = true, Resume = true }));

        var resumed = await store.ClaimAsync(run.Id, "worker-b", 1, Stale, T0.AddMinutes(5));

        Assert.Equal(ClaimOutcome.Claimed, resumed.Outcome);
        Assert.Equal(1, resumed.Attempt);
        Assert.Equal(T0.AddMinutes(5), resumed.Run!.StartedAt);
    }

    [Fact]
    public async Task A_cancel_request_is_kept_for_an_active_run_only()
    {
        var run = await QueueAsync();
        var done = await QueueAsync();
        Assert.True(await store.TryTransitionAsync(done.Id, [RunStatus.Queued], new RunTransition(RunStatus.Finished)));
        Assert.False(await store.IsCancelRequestedAsync(run.Id));

        await store.ClaimAsync(run.Id, "worker-a", 3, Stale, T0);
        Assert.True(await store.RequestCancelAsync(run.Id));
        Assert.True(await store.RequestCancelAsync(run.Id)); // asking twice is no error

        Assert.True(await store.IsCancelRequestedAsync(run.Id));
        Assert.False(await store.RequestCancelAsync(done.Id));
        Assert.False(await store.IsCancelRequestedAsync(done.Id));
        Assert.False(await store.RequestCancelAsync(run.Id + 1000));
        Assert.False(await store.IsCancelRequestedAsync(run.Id + 1000));

        // Cancelled, resumed: the old request does not cancel the new attempt.
        Assert.True(await store.TryTransitionAsync(run.Id, [RunStatus.Running], new RunTransition(RunStatus.Cancelled)));
        Assert.True(await store.TryTransitionAsync(run.Id, [RunStatus.Cancelled], new RunTransition(RunStatus.Queued) { Resume = true }));
        Assert.False(await store.IsCancelRequestedAsync(run.Id));
    }
}
