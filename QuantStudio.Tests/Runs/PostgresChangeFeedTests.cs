using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Runs;

public sealed class PostgresChangeFeedTests(PostgresTestDatabase database) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);
    private readonly string application = "qs-feed-" + Guid.NewGuid().ToString("N")[..8];
    private PostgresRunStore store = null!;
    private PostgresChangeFeed feed = null!;

    public async Task InitializeAsync()
    {
        store = new PostgresRunStore(database.StoreOptions());
        await store.InitializeAsync();
        feed = new PostgresChangeFeed(database.StoreOptions() with { ConnectionString = database.ConnectionStringFor(application) },
            probeEvery: TimeSpan.FromMilliseconds(500));
    }

    public async Task DisposeAsync()
    {
        await feed.DisposeAsync();
        await store.DisposeAsync();
    }

    private static TaskCompletionSource<T> Signal<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task An_event_stored_by_another_process_is_heard_within_a_second()
    {
        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), DateTimeOffset.UtcNow));
        var heard = Signal<(long, long)>();
        feed.EventStored += (runId, seq) => heard.TrySetResult((runId, seq));
        await feed.StartAsync();

        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "hello") { Seq = 7, Time = DateTimeOffset.UtcNow }));

        Assert.Equal((run.Id, 7L), await heard.Task.WaitAsync(WithinASecond));
    }

    [Fact]
    public async Task Run_changes_and_cancel_requests_are_heard_and_a_refused_change_is_not()
    {
        var changed = new List<long>();
        var cancelled = Signal<long>();
        var created = Signal<long>();
        feed.RunChanged += id => { lock (changed) changed.Add(id); created.TrySetResult(id); };
        feed.CancelRequested += id => cancelled.TrySetResult(id);
        await feed.StartAsync();

        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), DateTimeOffset.UtcNow));
        Assert.Equal(run.Id, await created.Task.WaitAsync(WithinASecond));
        Assert.Equal(ClaimOutcome.Claimed, (await store.ClaimAsync(run.Id, "worker-a", 3, TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow)).Outcome);
        Assert.False(await store.TryTransitionAsync(run.Id, [RunStatus.Queued], new RunTransition(RunStatus.Cancelled))); // refused: no change
        Assert.True(await store.RequestCancelAsync(run.Id));
        Assert.Equal(run.Id, await cancelled.Task.WaitAsync(WithinASecond));
        Assert.True(await store.DeleteRunAsync(run.Id));
        var marker = await store.CreateRunAsync(new NewRun("marker", new ExperimentSpec(), DateTimeOffset.UtcNow));

        // One connection delivers notifications in commit order: once the marker's is heard, all before it were.
        var deadline = DateTime.UtcNow + WithinASecond;
        while (DateTime.UtcNow < deadline && !Heard(marker.Id))
            await Task.Delay(20);
        bool Heard(long id)
        {
            lock (changed)
                return changed.Contains(id);
        }
        lock (changed) // created, claimed, deleted; not the refused transition, not the cancel request
            Assert.Equal([run.Id, run.Id, run.Id, marker.Id], changed);
    }

    [Fact]
    public async Task The_feed_reconnects_after_losing_its_connection_and_hears_changes_again()
    {
        var reconnected = Signal<bool>();
        var heard = Signal<long>();
        feed.Reconnected += () => reconnected.TrySetResult(true);
        feed.EventStored += (runId, _) => heard.TrySetResult(runId);
        await feed.StartAsync();

        Assert.Equal(1, await database.TerminateConnectionsAsync(application));
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), DateTimeOffset.UtcNow));
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "after") { Seq = 1, Time = DateTimeOffset.UtcNow }));
        Assert.Equal(run.Id, await heard.Task.WaitAsync(WithinASecond));
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_stop_the_others_or_the_feed()
    {
        var errors = new List<Exception>();
        await using var guarded = new PostgresChangeFeed(database.StoreOptions(), onHandlerError: ex => { lock (errors) errors.Add(ex); });
        var heard = Signal<long>();
        guarded.EventStored += (_, _) => throw new InvalidOperationException("a broken listener");
        guarded.EventStored += (_, seq) => { if (seq == 2) heard.TrySetResult(seq); };
        await guarded.StartAsync();

        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), DateTimeOffset.UtcNow));
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "1") { Seq = 1, Time = DateTimeOffset.UtcNow }));
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "2") { Seq = 2, Time = DateTimeOffset.UtcNow }));

        Assert.Equal(2, await heard.Task.WaitAsync(WithinASecond));
        lock (errors)
            Assert.Equal(2, errors.Count(e => e.Message == "a broken listener"));
    }

    [Fact]
    public async Task Stopping_from_several_threads_at_once_stops_once_and_the_feed_can_start_again()
    {
        await feed.StartAsync();

        // A host shutting down stops its hosted services and disposes them at nearly the same time.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => feed.StopAsync())));
        await feed.StopAsync();

        var run = await store.CreateRunAsync(new NewRun("run", new ExperimentSpec(), DateTimeOffset.UtcNow));
        var heard = Signal<long>();
        feed.EventStored += (runId, _) => heard.TrySetResult(runId);
        await feed.StartAsync();
        await store.AppendEventAsync(StoredEvent.From(run.Id, new LogMessage("info", "again") { Seq = 1, Time = DateTimeOffset.UtcNow }));
        Assert.Equal(run.Id, await heard.Task.WaitAsync(WithinASecond));
    }
}
