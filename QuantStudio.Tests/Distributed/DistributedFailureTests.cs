using System.Net;
using System.Text.RegularExpressions;
using QuantStudio.Tests.Runs;
using QuantStudio.Tests.Training;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// Distributed mode when runs go wrong, with `quantstudio worker` processes on the real PostgreSQL and RabbitMQ: a spec that fails
/// on the worker, workers that keep dying under a run, a cancel from the web.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class DistributedFailureTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    private static string LongRun(string name) => DistributedWebNode.Spec(name, "post_training", epochs: 40, subset: 640);

    [Fact]
    public async Task ARunThatFailsOnTheWorker_IsFailedWithItsError_Acknowledged_AndNotDeliveredAgain()
    {
        await db.ResetAsync();
        await using var queue = new RabbitTestQueue();
        using var node = new DistributedWebNode(db, queue);
        // The web node has MNIST's folder, the worker's data folder has not: the spec passes the web's checks and fails there.
        Directory.CreateDirectory(Path.Combine(node.Factory.DataDirectory, "datasets", "mnist"));
        var id = await node.CreateRunAsync(DistributedWebNode.Spec("mnist missing", "post_training", epochs: 1).Replace("\"shapes\"", "\"mnist\""));
        using var worker = node.StartWorker("w1");

        await node.WaitForEndAsync([id], TimeSpan.FromSeconds(60), worker);

        var run = await node.RunAsync(id);
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("mnist", run.GetProperty("last_error").GetString());
        Assert.Equal("run_failed", (await node.EventsAsync(id))[^1].GetProperty("type").GetString());
        // Acknowledged: nothing left in the queue, and the worker, still consuming, was not given the run again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal((0, 0), await queue.CountAsync());
        Assert.Single(Regex.Matches(worker.Log, $@"Run {id} \(.*\): attempt \d+ starts"));
        Assert.DoesNotContain($"Run {id} has ended", worker.Log);
    }

    [Fact]
    public async Task ARunWhoseWorkersKeepDying_IsFailedAfterMaxAttempts()
    {
        await db.ResetAsync();
        await using var queue = new RabbitTestQueue();
        using var node = new DistributedWebNode(db, queue);
        var id = await node.CreateRunAsync(LongRun("crashes its workers"));
        var workers = new List<WorkerProcess>();
        try
        {
            // Each worker that takes the run dies (SIGKILL) while training it; with MaxAttempts 2 the third gives up on it.
            for (var attempt = 1; attempt <= 2; attempt++)
            {
                var w = node.StartWorker($"doomed-{attempt}", maxAttempts: 2);
                workers.Add(w);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (await node.HolderAsync(id) != w.Name || !w.Log.Contains($"Run {id} ("))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{w.Name} did not take run {id}\n{w.Log}");
                    await Task.Delay(100);
                }
                w.Kill();
            }
            var last = node.StartWorker("survivor", maxAttempts: 2);
            workers.Add(last);

            await node.WaitForEndAsync([id], TimeSpan.FromSeconds(60), [.. workers]);

            var run = await node.RunAsync(id);
            Assert.Equal("failed", run.GetProperty("status").GetString());
            Assert.Contains("stopped 2 times", run.GetProperty("last_error").GetString());
            Assert.DoesNotContain($"Run {id} (", last.Log);
            await queue.AssertDrainsAsync(TimeSpan.FromSeconds(15), () => last.Log);
        }
        finally
        {
            foreach (var w in workers)
                w.Dispose();
        }
    }

    [Fact]
    public async Task ACancelFromTheWeb_StopsTheRunOnItsWorker_WithinSeconds()
    {
        await db.ResetAsync();
        await using var queue = new RabbitTestQueue();
        // A heartbeat of 10 s: the request reaches the worker through the store's change feed, not the heartbeat's check.
        using var node = new DistributedWebNode(db, queue);
        var id = await node.CreateRunAsync(LongRun("cancelled from the web"));
        using var worker = WorkerProcess.Start("w1", db.ConnectionString, queue.Uri, queue.Name, node.Root, heartbeatSeconds: 10);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while ((await node.EventsAsync(id)).All(e => e.GetProperty("type").GetString() != "epoch_metrics"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"run {id} trained no epoch\n{worker.Log}");
            await Task.Delay(100);
        }

        var asked = DateTime.UtcNow;
        var response = await node.Client.PostAsync($"/api/runs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await node.WaitForEndAsync([id], TimeSpan.FromSeconds(10), worker);
        var took = DateTime.UtcNow - asked;

        Assert.True(took < TimeSpan.FromSeconds(5), $"the cancel took {took.TotalSeconds:F1} s");
        Assert.Equal("cancelled", (await node.RunAsync(id)).GetProperty("status").GetString());
        var events = await node.EventsAsync(id);
        Assert.Equal("run_cancelled", events[^1].GetProperty("type").GetString());
        DistributedWebNode.AssertContiguous(id, events.Select(e => e.GetProperty("seq").GetInt64()));
        await queue.AssertDrainsAsync(TimeSpan.FromSeconds(15), () => worker.Log);
        Assert.False(worker.HasExited);
    }
}
