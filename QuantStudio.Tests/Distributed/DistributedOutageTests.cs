using Microsoft.Extensions.DependencyInjection;
using QuantStudio.Tests.Runs;
using QuantStudio.Tests.Training;
using QuantStudio.Web.Distributed;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// Distributed mode through outages, with `quantstudio worker` processes: the broker restarts in the middle of a batch of runs
/// (rabbitmqctl stop_app / start_app, a few seconds: other tests may share the broker) and PostgreSQL ends every connection of
/// the store (pg_terminate_backend, as a restart does). No run and no stored event may be lost.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class DistributedOutageTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task ABrokerRestartAndAStoreOutage_MidSweep_LoseNoRunAndNoEvent()
    {
        await db.ResetAsync();
        await using var queue = new RabbitTestQueue();
        using var node = new DistributedWebNode(db, queue);
        // A sweep of six runs: bits × method (post-training ignores the teacher the quantized distillation trains).
        var ids = (await node.CreateSweepAsync(DistributedWebNode.Spec("sweep", "quantized_distillation", epochs: 3),
            """[{ "path": "quantization.bits", "values": [2, 4, 8] }, { "path": "method", "values": ["post_training", "quantized_distillation"] }]""")).ToList();
        Assert.Equal(6, ids.Count);
        using var w1 = node.StartWorker("w1");
        using var w2 = node.StartWorker("w2");
        var workers = new[] { w1, w2 };

        // Mid-sweep: some run over, others still to go.
        await DistributedWebNode.WaitUntilAsync(async () => (await node.StatusesAsync(ids)).Count(s => s == "finished") >= 1, "no run finished", workers);
        Assert.Contains(await node.StatusesAsync(ids), s => s is "queued" or "running");

        var (stopCode, stopOutput) = await RabbitTestQueue.RabbitCtlAsync("stop_app");
        Assert.True(stopCode == 0, stopOutput);
        long outageRun;
        try
        {
            // A run submitted while the broker is away is stored at once and published once it is back.
            outageRun = await node.CreateRunAsync(DistributedWebNode.Spec("during the outage", "post_training", epochs: 2));
            Assert.Contains(outageRun, node.Factory.Services.GetRequiredService<WorkQueueDispatcher>().Unpublished);
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            var (startCode, startOutput) = await RabbitTestQueue.RabbitCtlAsync("start_app");
            Assert.True(startCode == 0, startOutput);
        }
        ids.Add(outageRun);

        // A follower of a run that trains through the store's outage.
        await DistributedWebNode.WaitUntilAsync(async () => (await node.StatusesAsync(ids)).Contains("running"), "no run trains after the broker restart", workers);
        var followedId = ids.First(id => node.RunAsync(id).GetAwaiter().GetResult().GetProperty("status").GetString() == "running");
        var followed = node.FollowAsync(followedId);
        var before = (await node.EventsAsync(followedId)).Length;
        await DistributedWebNode.WaitUntilAsync(async () => (await node.EventsAsync(followedId)).Length > before + 3, "the followed run stored nothing", workers);
        // Every connection to the store ends (the web node's, its change feed's, both workers'), twice in a row.
        Assert.True(await db.TerminateConnectionsAsync() > 0);
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        await db.TerminateConnectionsAsync();

        await node.WaitForEndAsync(ids, TimeSpan.FromSeconds(180), workers);

        foreach (var id in ids)
        {
            var run = await node.RunAsync(id);
            Assert.True(run.GetProperty("status").GetString() == "finished", $"run {id}: {run}\n--- w1\n{w1.Log}\n--- w2\n{w2.Log}");
            var events = await node.EventsAsync(id);
            DistributedWebNode.AssertContiguous(id, events.Select(e => e.GetProperty("seq").GetInt64()));
            Assert.Single(events, e => e.GetProperty("type").GetString() == "run_finished");
        }
        var live = await followed.WaitAsync(TimeSpan.FromSeconds(30));
        DistributedWebNode.AssertContiguous(followedId, live);
        Assert.Equal((await node.EventsAsync(followedId)).Length, live.Count);
        await queue.AssertDrainsAsync(TimeSpan.FromSeconds(15), () => $"--- w1\n{w1.Log}\n--- w2\n{w2.Log}");
        Assert.False(w1.HasExited, w1.Log);
        Assert.False(w2.HasExited, w2.Log);
    }
}
