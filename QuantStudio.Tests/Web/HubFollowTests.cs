using System.Text.Json;

namespace QuantStudio.Tests.Web;

public sealed class HubFollowTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private static long[] Seqs(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("seq").GetInt64()).ToArray();

    [Fact]
    public async Task Follow_from_the_middle_of_a_finished_run_gets_exactly_the_remaining_events()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        var total = factory.Runner.EventCount;

        await using var hub = await factory.ConnectHubAsync();
        var items = await (await hub.StreamAsync("Follow", [id, 4])).ReadAllAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(5, total - 4).Select(i => (long)i), Seqs(items));
        Assert.Equal("run_finished", items[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Follow_on_a_live_run_gets_every_event_once_in_order()
    {
        var gate = new SemaphoreSlim(0);
        factory.Runner.Gate = gate;
        factory.Runner.Steps = 200;
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await factory.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await using var hub = await factory.ConnectHubAsync();
        var early = await hub.StreamAsync("Follow", [id, 0]);
        // Let part of the run happen, join a second follower mid-run, then let the rest go as fast as it can.
        gate.Release(50);
        await Task.Delay(50);
        var late = await hub.StreamAsync("Follow", [id, 0]);
        gate.Release(1000);

        var earlyItems = await early.ReadAllAsync(TimeSpan.FromSeconds(20));
        var lateItems = await late.ReadAllAsync(TimeSpan.FromSeconds(20));
        var expected = Enumerable.Range(1, factory.Runner.EventCount).Select(i => (long)i).ToArray();
        Assert.Equal(expected, Seqs(earlyItems));
        Assert.Equal(expected, Seqs(lateItems));
    }

    [Fact]
    public async Task A_follower_that_overflows_catches_up_from_the_store()
    {
        // A tiny live buffer forces the store path while events keep coming.
        var broker = (QuantStudio.Web.Runs.RunEventBroker)factory.Services.GetService(typeof(QuantStudio.Web.Runs.RunEventBroker))!;
        broker.SubscriptionCapacity = 2;
        var follower = new QuantStudio.Web.Runs.RunFollower(factory.Store, broker);
        factory.Runner.Steps = 300;
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        var seqs = new List<long>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in follower.FollowAsync(id, 0, cts.Token))
            seqs.Add(e.Seq);
        Assert.Equal(Enumerable.Range(1, factory.Runner.EventCount).Select(i => (long)i), seqs);
    }

    [Fact]
    public async Task FollowFrames_thins_step_metrics_but_keeps_every_other_event()
    {
        factory.Runner.Steps = 100;
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");

        await using var hub = await factory.ConnectHubAsync();
        var frames = await (await hub.StreamAsync("FollowFrames", [id, 0])).ReadAllAsync(TimeSpan.FromSeconds(10));
        var events = frames.SelectMany(f => f.GetProperty("events").EnumerateArray()).ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(factory.Runner.EventCount, frames[^1].GetProperty("last_seq").GetInt64());
        // The scripted steps are emitted within microseconds: the thinning keeps the first of the phase and drops the rest.
        Assert.InRange(types.Count(t => t == "step_metrics"), 1, 10);
        Assert.Equal(factory.Runner.EventCount - 100, types.Count(t => t != "step_metrics"));
        Assert.Equal(factory.Runner.EventCount, events.Count + frames.Sum(f => f.GetProperty("thinned").GetInt32()));
        Assert.Equal(Seqs(events).Order(), Seqs(events));
    }

    [Fact]
    public async Task FollowRuns_sends_the_list_then_changes()
    {
        var client = factory.CreateClient();
        var first = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, first, "finished");

        await using var hub = await factory.ConnectHubAsync();
        var changes = await hub.StreamAsync("FollowRuns", []);
        var snapshot = await changes.ReadAsync();
        Assert.Equal(first, snapshot.GetProperty("run_id").GetInt64());

        var second = await TestSpecs.CreateRunAsync(client);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var c = await changes.ReadAsync(cts.Token);
            if (c.GetProperty("run_id").GetInt64() == second && c.GetProperty("run").GetProperty("status").GetString() == "finished")
                break;
        }
        await client.DeleteAsync($"/api/runs/{first}");
        while (true)
        {
            var c = await changes.ReadAsync(cts.Token);
            if (c.GetProperty("kind").GetString() == "deleted")
            {
                Assert.Equal(first, c.GetProperty("run_id").GetInt64());
                break;
            }
        }
    }

    [Fact]
    public async Task Following_an_unknown_run_completes_with_an_error()
    {
        await using var hub = await factory.ConnectHubAsync();
        var stream = await hub.StreamAsync("Follow", [12345, 0]);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => stream.ReadAllAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("12345", ex.Message);
    }
}
