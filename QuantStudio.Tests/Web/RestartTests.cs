using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web;

public sealed class RestartTests
{
    [Fact]
    public async Task The_store_marks_runs_left_running_as_interrupted_and_keeps_their_events()
    {
        var path = Path.Combine(Path.GetTempPath(), "qs-store-" + Guid.NewGuid().ToString("N"), "quantstudio.db");
        try
        {
            var store = new SqliteRunStore(path);
            await store.InitializeAsync();
            var now = DateTimeOffset.UtcNow;
            var running = await store.CreateRunAsync(new NewRun("a", new ExperimentSpec(), now));
            var queued = await store.CreateRunAsync(new NewRun("b", new ExperimentSpec(), now));
            Assert.True(await store.TryTransitionAsync(running.Id, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = now }));
            for (var i = 1; i <= 3; i++)
                await store.AppendEventAsync(StoredEvent.From(running.Id, new LogMessage("info", $"step {i}") { Seq = i, Time = now }));

            // A new process on the same file.
            var reopened = new SqliteRunStore(path);
            await reopened.InitializeAsync();
            Assert.Equal([running.Id], await reopened.MarkRunningAsInterruptedAsync(now));
            var runs = await reopened.ListRunsAsync();
            Assert.Equal(RunStatus.Interrupted, runs.Single(r => r.Id == running.Id).Status);
            Assert.Equal(RunStatus.Queued, runs.Single(r => r.Id == queued.Id).Status);
            // The interruption is stored as the run's last event, so followers see the run end.
            Assert.Equal(4, await reopened.GetLastSeqAsync(running.Id));
            var events = await reopened.ReadEventsAsync(running.Id, 1, 100);
            Assert.Equal([2L, 3L, 4L], events.Select(e => e.Seq));
            var interruption = Assert.IsType<RunCancelled>(events[^1].ToRunEvent());
            Assert.Contains("server stopped", interruption.Reason);
            Assert.Equal(0, await reopened.GetLastSeqAsync(queued.Id));
            Assert.Empty(await reopened.MarkRunningAsInterruptedAsync(now));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
    }

    [Fact]
    public async Task A_restarted_app_shows_every_run_and_resumes_an_interrupted_one()
    {
        var dir = Path.Combine(Path.GetTempPath(), "qs-restart-" + Guid.NewGuid().ToString("N"));
        try
        {
            long finishedId, stoppedId, crashedId;
            int finishedEvents;
            using (var first = new QuantStudioFactory(dir))
            {
                var client = first.CreateClient();
                finishedId = await TestSpecs.CreateRunAsync(client);
                var finished = await TestSpecs.WaitForStatusAsync(client, finishedId, "finished");
                finishedEvents = finished.GetProperty("last_seq").GetInt32();

                first.Runner.Gate = new SemaphoreSlim(0);
                first.Runner.ResetStarted();
                stoppedId = await TestSpecs.CreateRunAsync(client);
                await first.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
                first.Runner.Gate.Release(2);
                await Task.Delay(100);
            } // the host stops mid-run

            // A crash leaves a run marked running with no terminal event.
            var store = new SqliteRunStore(Path.Combine(dir, "quantstudio.db"));
            var crashed = await store.CreateRunAsync(new NewRun("crashed", SpecJson.Parse(TestSpecs.Json()), DateTimeOffset.UtcNow));
            crashedId = crashed.Id;
            await store.TryTransitionAsync(crashedId, [RunStatus.Queued], new RunTransition(RunStatus.Running) { StartedAt = DateTimeOffset.UtcNow });
            await store.AppendEventAsync(StoredEvent.From(crashedId, new LogMessage("info", "before the crash") { Seq = 1, Time = DateTimeOffset.UtcNow }));

            using var second = new QuantStudioFactory(dir);
            var client2 = second.CreateClient();
            var runs = (await client2.GetFromJsonAsync<JsonElement[]>("/api/runs"))!.ToDictionary(r => r.GetProperty("id").GetInt64());
            Assert.Equal("finished", runs[finishedId].GetProperty("status").GetString());
            Assert.Equal("interrupted", runs[stoppedId].GetProperty("status").GetString());
            Assert.Equal("interrupted", runs[crashedId].GetProperty("status").GetString());
            Assert.Equal(finishedEvents, (await client2.GetFromJsonAsync<JsonElement[]>($"/api/runs/{finishedId}/events"))!.Length);

            // A follower of the crashed run gets its events and the interruption, and completes.
            await using (var hub = await second.ConnectHubAsync())
            {
                var followed = await (await hub.StreamAsync("Follow", [crashedId, 0])).ReadAllAsync(TimeSpan.FromSeconds(10));
                Assert.Equal([1L, 2L], followed.Select(e => e.GetProperty("seq").GetInt64()));
                Assert.Equal("run_cancelled", followed[^1].GetProperty("type").GetString());
            }

            var stoppedLast = (await client2.GetFromJsonAsync<JsonElement>($"/api/runs/{stoppedId}")).GetProperty("last_seq").GetInt64();
            Assert.Equal(HttpStatusCode.Accepted, (await client2.PostAsync($"/api/runs/{crashedId}/resume", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await client2.PostAsync($"/api/runs/{stoppedId}/resume", null)).StatusCode);
            var resumed = await TestSpecs.WaitForStatusAsync(client2, stoppedId, "finished");
            Assert.Equal(stoppedLast + second.Runner.EventCount, resumed.GetProperty("last_seq").GetInt64());
            Assert.All(second.Runner.Contexts, c => Assert.True(c.Resume));
            var crashedDone = await TestSpecs.WaitForStatusAsync(client2, crashedId, "finished");
            Assert.Equal(2 + second.Runner.EventCount, crashedDone.GetProperty("last_seq").GetInt64());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            QuantStudioFactory.DeleteData(dir);
        }
    }
}
