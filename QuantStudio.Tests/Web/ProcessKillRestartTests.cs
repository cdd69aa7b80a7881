using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

/// <summary>
/// Restart safety against a real crash: the app runs as its own process, is killed (SIGKILL) while a run trains, and is
/// started again on the same data folder.
/// </summary>
public sealed class ProcessKillRestartTests
{
    private static string Spec(int epochs, string name) => $$"""
        {
          "name": "{{name}}",
          "dataset": { "name": "shapes" },
          "teacher": { "arch": "cifar-teacher", "width": 0.5 },
          "student": { "arch": "cifar-student-3" },
          "method": "quantized_distillation",
          "quantization": { "bits": 4, "bucket_size": 256 },
          "optimizer": { "epochs": {{epochs}} }
        }
        """;

    [Fact(Timeout = 180_000)]
    public async Task Killing_the_server_mid_run_keeps_every_run_and_event_and_the_interrupted_run_resumes()
    {
        var data = StudioPaths.NewDataDirectory("qs-kill-");
        try
        {
            long finishedId, killedId, queuedId;
            Dictionary<long, JsonElement[]> before;
            string logBeforeKill;
            using (var first = await StudioProcess.StartAsync(data, new Dictionary<string, string>
            {
                ["QuantStudio:SimulatedRunner"] = "true",
                ["QuantStudio:SimulatedStepsPerEpoch"] = "10",
                ["QuantStudio:SimulatedStepMilliseconds"] = "100",
            }))
            {
                using var client = first.CreateClient();
                finishedId = await TestSpecs.CreateRunAsync(client, Spec(1, "finishes before the kill"));
                killedId = await TestSpecs.CreateRunAsync(client, Spec(30, "killed mid-run"));   // 300 steps: about 30 s
                queuedId = await TestSpecs.CreateRunAsync(client, Spec(1, "queued at the kill"));
                await TestSpecs.WaitForStatusAsync(client, finishedId, "finished");
                await WaitForEventsAsync(client, killedId, 20);

                before = [];
                foreach (var id in new[] { finishedId, killedId, queuedId })
                    before[id] = await EventsAsync(client, id);
                Assert.Equal("running", await StatusAsync(client, killedId));
                Assert.Equal("queued", await StatusAsync(client, queuedId));
                Assert.Empty(before[queuedId]);

                logBeforeKill = first.Output;
                first.Kill();
            }

            using var second = await StudioProcess.StartAsync(data, new Dictionary<string, string>
            {
                ["QuantStudio:SimulatedRunner"] = "true",
                ["QuantStudio:SimulatedStepsPerEpoch"] = "10",
                ["QuantStudio:SimulatedStepMilliseconds"] = "5",
            });
            using var client2 = second.CreateClient();

            // Every run is still there; the one that was training is interrupted, not running and not failed.
            var runs = (await client2.GetFromJsonAsync<JsonElement[]>("/api/runs"))!.ToDictionary(r => r.GetProperty("id").GetInt64());
            Assert.Equal([finishedId, killedId, queuedId], runs.Keys.Order());
            Assert.Equal("finished", runs[finishedId].GetProperty("status").GetString());
            Assert.Equal("interrupted", runs[killedId].GetProperty("status").GetString());
            Assert.Contains("stopped", runs[killedId].GetProperty("last_error").GetString());

            // The finished run's events are exactly as they were.
            var finishedAfter = await EventsAsync(client2, finishedId);
            Assert.Equal(before[finishedId].Select(e => e.GetRawText()), finishedAfter.Select(e => e.GetRawText()));

            // The killed run keeps every event read before the kill, unchanged, plus any stored between that read and the
            // kill; numbering has no gap and the one terminal event is the interruption the restart stored.
            var killedAfter = await EventsAsync(client2, killedId);
            var killedBefore = before[killedId];
            Assert.True(killedAfter.Length >= killedBefore.Length, $"{killedAfter.Length} events after the restart, {killedBefore.Length} before");
            Assert.Equal(killedBefore.Select(e => e.GetRawText()), killedAfter.Take(killedBefore.Length).Select(e => e.GetRawText()));
            Assert.Equal(Enumerable.Range(1, killedAfter.Length).Select(i => (long)i), Seqs(killedAfter));
            var terminal = Assert.Single(killedAfter, e => e.GetProperty("type").GetString() is "run_finished" or "run_failed" or "run_cancelled");
            Assert.Equal("run_cancelled", terminal.GetProperty("type").GetString());
            Assert.Contains("server stopped", terminal.GetProperty("reason").GetString());
            Assert.Equal(killedAfter[^1].GetRawText(), terminal.GetRawText());
            var lastSeqAtKill = killedAfter.Length;
            Assert.Equal(lastSeqAtKill, (await client2.GetFromJsonAsync<JsonElement>($"/api/runs/{killedId}")).GetProperty("last_seq").GetInt64());

            // A follower of the interrupted run gets every event up to the interruption, and completes.
            await using (var hub = await second.ConnectHubAsync())
            {
                var followed = await (await hub.StreamAsync("Follow", [killedId, 0])).ReadAllAsync(TimeSpan.FromSeconds(20));
                Assert.Equal(killedAfter.Select(e => e.GetProperty("seq").GetInt64()), Seqs(followed));
            }
            await MetricsFileAssert.HoldsTheStoredEventsAsync(client2, data, killedId);

            // The run that was waiting in the queue is queued again and runs.
            await TestSpecs.WaitForStatusAsync(client2, queuedId, "finished");

            // Resume: the interrupted run trains to completion, numbering on from where the kill left it.
            var resume = await client2.PostAsync($"/api/runs/{killedId}/resume", null);
            Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
            await WaitForStatusAsync(client2, killedId, "finished", TimeSpan.FromSeconds(60));
            var resumed = await EventsAsync(client2, killedId);
            Assert.Equal(Enumerable.Range(1, resumed.Length).Select(i => (long)i), Seqs(resumed));
            Assert.Equal(killedAfter.Select(e => e.GetRawText()), resumed.Take(lastSeqAtKill).Select(e => e.GetRawText()));
            Assert.Equal("run_started", resumed[lastSeqAtKill].GetProperty("type").GetString());
            Assert.Equal("run_finished", resumed[^1].GetProperty("type").GetString());
            Assert.Single(resumed, e => e.GetProperty("type").GetString() == "run_finished");
            Assert.Equal(HttpStatusCode.OK, (await client2.GetAsync($"/api/runs/{killedId}/artifacts/model.qsc")).StatusCode);

            // An outside follower of the resumed run gets every stored event once, in order, and completes; metrics.jsonl holds
            // each stored event once.
            await using (var hub = await second.ConnectHubAsync())
            {
                var followed = await (await hub.StreamAsync("Follow", [killedId, 0])).ReadAllAsync(TimeSpan.FromSeconds(20));
                Assert.Equal(resumed.Select(e => JsonSerializer.Serialize(e)), followed.Select(e => JsonSerializer.Serialize(e)));
            }
            await MetricsFileAssert.HoldsTheStoredEventsAsync(client2, data, killedId);
            Assert.False(second.HasExited, second.Output);
            Assert.DoesNotContain("Unhandled exception", logBeforeKill);
        }
        finally
        {
            QuantStudioFactory.DeleteData(data);
        }
    }

    private static long[] Seqs(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("seq").GetInt64()).ToArray();

    private static async Task<JsonElement[]> EventsAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/events?limit=10000"))!;

    private static async Task<string?> StatusAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}")).GetProperty("run").GetProperty("status").GetString();

    private static async Task WaitForEventsAsync(HttpClient client, long id, long atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
            if (run.GetProperty("run").GetProperty("status").GetString() == "running" && run.GetProperty("last_seq").GetInt64() >= atLeast)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} did not reach {atLeast} events while running: {run}");
            await Task.Delay(50);
        }
    }

    private static async Task WaitForStatusAsync(HttpClient client, long id, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await StatusAsync(client, id) != status)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} did not become {status}");
            await Task.Delay(50);
        }
    }
}
