using System.Net.Http.Json;
using System.Text.Json;
using QuantStudio.Tests.Runs;
using QuantStudio.Tests.Training;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// Distributed mode end to end: a web node in process, `quantstudio worker` child processes on the real PostgreSQL and RabbitMQ,
/// small runs that really train. (Beside the training tests: the evaluation here uses libtorch's process-wide generator.)
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class DistributedRunsTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task SixRunsOnTwoWorkers_OneKilledMidRun_AllFinish_AndTheInterruptedRunResumesFromItsCheckpoint()
    {
        await db.ResetAsync();
        await using var queue = new RabbitTestQueue();
        using var node = new DistributedWebNode(db, queue);

        // The first run is the long one: the worker that takes it is killed in the middle.
        var specs = new[]
        {
            DistributedWebNode.Spec("long post-training", "post_training", epochs: 10, subset: 640),
            DistributedWebNode.Spec("qd 4-bit", "quantized_distillation", epochs: 2),
            DistributedWebNode.Spec("pt 2-bit", "post_training", epochs: 2, bits: 2),
            DistributedWebNode.Spec("qd 2-bit", "quantized_distillation", epochs: 2, bits: 2),
            DistributedWebNode.Spec("pt 8-bit", "post_training", epochs: 3, bits: 8),
            DistributedWebNode.Spec("qd 8-bit", "quantized_distillation", epochs: 3, bits: 8, seed: 2),
        };
        var ids = new List<long>();
        foreach (var s in specs)
            ids.Add(await node.CreateRunAsync(s));
        var longRun = ids[0];

        // A follower on the web node from the start: what the change feed brings it must be the run's whole stream.
        var followed = node.FollowAsync(longRun);

        using var w1 = node.StartWorker("w1");
        using var w2 = node.StartWorker("w2");

        // Kill the long run's worker once the run has stored its second checkpoint.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while ((await node.EventsAsync(longRun)).Count(e => e.GetProperty("type").GetString() == "checkpoint_saved") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the long run stored no second checkpoint\n--- w1\n{w1.Log}\n--- w2\n{w2.Log}");
            await Task.Delay(100);
        }
        var holder = await node.HolderAsync(longRun);
        var victim = holder == "w1" ? w1 : holder == "w2" ? w2 : throw new InvalidOperationException($"held by {holder}");
        victim.Kill();
        Assert.Equal("running", (await node.RunAsync(longRun)).GetProperty("status").GetString());
        // As a service manager would, a worker takes its place.
        using var replacement = node.StartWorker(victim.Name + "-restarted");
        var survivor = victim == w1 ? w2 : w1;

        await node.WaitForEndAsync(ids, TimeSpan.FromSeconds(150), survivor, replacement, victim);

        foreach (var id in ids)
        {
            var run = await node.RunAsync(id);
            Assert.True(run.GetProperty("status").GetString() == "finished",
                $"run {id}: {run}\n--- {survivor.Name}\n{survivor.Log}\n--- {replacement.Name}\n{replacement.Log}");
            var events = await node.EventsAsync(id);
            DistributedWebNode.AssertContiguous(id, events.Select(e => e.GetProperty("seq").GetInt64()));
            // The model the web app serves is the one the run measured.
            var accuracy = await node.EvaluateDownloadedModelAsync(id);
            Assert.Equal(run.GetProperty("summary").GetProperty("student_accuracy").GetDouble(), accuracy, 6);
        }

        // An ONNX export asked of the web node works from the shared store (the worker's files are not on this node's disk).
        var exported = await node.Client.PostAsync($"/api/runs/{ids[1]}/export/onnx?weights=float", null);
        Assert.True(exported.StatusCode == System.Net.HttpStatusCode.Created, await exported.Content.ReadAsStringAsync());
        var export = await exported.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("model-float.onnx", export.GetProperty("artifact").GetProperty("name").GetString());
        Assert.Equal((await node.RunAsync(ids[1])).GetProperty("summary").GetProperty("student_accuracy").GetDouble(),
            await node.EvaluateDownloadedModelAsync(ids[1], "model-float.onnx"), 6);

        var longEvents = await node.EventsAsync(longRun);
        var resumedAt = Array.FindIndex(longEvents, e => e.GetProperty("type").GetString() == "run_resumed");
        Assert.True(resumedAt > 0, "the interrupted run has no run_resumed event");
        Assert.Single(longEvents, e => e.GetProperty("type").GetString() == "run_resumed");
        var checkpointEpoch = longEvents.Take(resumedAt)
            .Where(e => e.GetProperty("type").GetString() == "checkpoint_saved" && e.GetProperty("kind").GetString() == "training")
            .Select(e => e.GetProperty("epoch").GetInt32()).Last();
        Assert.True(checkpointEpoch >= 2);
        var epochsAfter = longEvents.Skip(resumedAt)
            .Where(e => e.GetProperty("type").GetString() == "epoch_metrics")
            .Select(e => e.GetProperty("epoch").GetInt32()).ToList();
        // Training went on after the checkpoint's epoch, to the end, each epoch once.
        Assert.Equal(Enumerable.Range(checkpointEpoch + 1, 10 - checkpointEpoch), epochsAfter);
        var takeOver = $"from the checkpoint at epoch {checkpointEpoch} after the previous worker stopped";
        Assert.Contains(longEvents.Take(resumedAt), e => e.GetProperty("type").GetString() == "log" &&
            e.GetProperty("message").GetString() is { } m && m.StartsWith("resumed on worker ", StringComparison.Ordinal) && m.EndsWith(takeOver, StringComparison.Ordinal));

        var live = await followed.WaitAsync(TimeSpan.FromSeconds(30));
        DistributedWebNode.AssertContiguous(longRun, live);
        Assert.Equal(longEvents.Length, live.Count);
        await queue.AssertDrainsAsync(TimeSpan.FromSeconds(15), () => $"--- {survivor.Name}\n{survivor.Log}\n--- {replacement.Name}\n{replacement.Log}");
    }
}
