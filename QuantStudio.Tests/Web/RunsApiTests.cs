using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

public sealed class RunsApiTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Fact]
    public async Task A_posted_spec_runs_to_completion_and_its_events_and_artifacts_are_served()
    {
        var client = factory.CreateClient();
        var res = await client.PostAsync("/api/runs", new StringContent(TestSpecs.Json(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        var created = await res.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal($"/api/runs/{id}", res.Headers.Location!.OriginalString);

        var detail = await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(factory.Runner.EventCount, detail.GetProperty("last_seq").GetInt64());
        Assert.Equal(4, detail.GetProperty("spec").GetProperty("quantization").GetProperty("bits").GetInt32());
        var run = detail.GetProperty("run");
        Assert.Equal(0.8, run.GetProperty("accuracy").GetDouble());
        Assert.Equal(600, run.GetProperty("packed_bytes").GetDouble());

        var list = await client.GetFromJsonAsync<JsonElement[]>("/api/runs");
        Assert.Contains(list!, r => r.GetProperty("id").GetInt64() == id);

        var events = await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/events?afterSeq=3");
        Assert.Equal(Enumerable.Range(4, factory.Runner.EventCount - 3).Select(i => (long)i), events!.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal("run_finished", events![^1].GetProperty("type").GetString());

        var onlyEpochs = await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/events?types=epoch_metrics");
        Assert.Single(onlyEpochs!);

        var artifacts = await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/artifacts");
        Assert.Contains(artifacts!, a => a.GetProperty("name").GetString() == "model.qsc");
        Assert.Contains(artifacts!, a => a.GetProperty("name").GetString() == "metrics.jsonl");
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, await client.GetByteArrayAsync($"/api/runs/{id}/artifacts/model.qsc"));
        var jsonl = await client.GetStringAsync($"/api/runs/{id}/artifacts/metrics.jsonl");
        Assert.Equal(factory.Runner.EventCount, jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Cancel_resume_and_delete_follow_the_run_status()
    {
        var gate = new SemaphoreSlim(0);
        factory.Runner.Gate = gate;
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "running");

        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        var cancelled = await TestSpecs.WaitForStatusAsync(client, id, "cancelled");
        var lastSeq = cancelled.GetProperty("last_seq").GetInt64();

        // Resume continues the numbering after the last stored event, with Resume set.
        factory.Runner.Gate = null;
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        var finished = await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(lastSeq + factory.Runner.EventCount, finished.GetProperty("last_seq").GetInt64());
        Assert.True(factory.Runner.Contexts[^1].Resume);
        var seqs = (await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/events"))!.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);

        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{id}")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "runs", id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Fact]
    public async Task A_resume_right_after_a_cancel_waits_for_the_runner_to_return_instead_of_refusing()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        // The cancelled event (and status) is stored, then the runner takes a while to return, as a trainer closing its files.
        factory.Runner.ReturnDelay = TimeSpan.FromSeconds(2);
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "running");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, "cancelled");

        factory.Runner.Gate = null;
        factory.Runner.ReturnDelay = TimeSpan.Zero;
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.True(factory.Runner.Contexts[^1].Resume);
    }

    [Fact]
    public async Task A_failing_runner_marks_the_run_failed_with_its_error()
    {
        factory.Runner.FailAfterSteps = 2;
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        var failed = await TestSpecs.WaitForStatusAsync(client, id, "failed");
        Assert.Equal("scripted failure", failed.GetProperty("run").GetProperty("last_error").GetString());
    }

    [Fact]
    public async Task Cancelling_a_queued_run_stores_a_terminal_event()
    {
        var gate = new SemaphoreSlim(0);
        factory.Runner.Gate = gate;
        var client = factory.CreateClient();
        var first = await TestSpecs.CreateRunAsync(client);
        var second = await TestSpecs.CreateRunAsync(client); // waits: one run at a time
        await TestSpecs.WaitForStatusAsync(client, first, "running");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{second}/cancel", null)).StatusCode);
        var events = await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{second}/events");
        Assert.Equal("run_cancelled", Assert.Single(events!).GetProperty("type").GetString());
        gate.Release(100);
        await TestSpecs.WaitForStatusAsync(client, first, "finished");
        Assert.Equal("cancelled", (await TestSpecs.WaitForStatusAsync(client, second, "cancelled")).GetProperty("run").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_runs_are_404_problems()
    {
        var client = factory.CreateClient();
        foreach (var req in new[]
                 {
                     new HttpRequestMessage(HttpMethod.Get, "/api/runs/999"),
                     new HttpRequestMessage(HttpMethod.Get, "/api/runs/999/events"),
                     new HttpRequestMessage(HttpMethod.Post, "/api/runs/999/cancel"),
                     new HttpRequestMessage(HttpMethod.Post, "/api/runs/999/resume"),
                     new HttpRequestMessage(HttpMethod.Delete, "/api/runs/999"),
                     new HttpRequestMessage(HttpMethod.Get, "/api/runs/999/artifacts/model.qsc"),
                 })
        {
            var res = await client.SendAsync(req);
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
            Assert.Equal("application/problem+json", res.Content.Headers.ContentType!.MediaType);
            var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("999", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task The_openapi_document_lists_the_runs_endpoints()
    {
        var client = factory.CreateClient();
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/runs", out _));
        Assert.True(paths.TryGetProperty("/api/runs/{id}/events", out _));
        Assert.True(paths.TryGetProperty("/api/uploads/teacher", out _));
    }

    [Fact]
    public async Task The_estimate_reports_packed_size_and_ratio()
    {
        var client = factory.CreateClient();
        var e = await client.GetFromJsonAsync<JsonElement>("/api/estimate?arch=lenet5&dataset=mnist&bits=2&bucket=256&method=quantized_distillation");
        Assert.Equal(61_706, e.GetProperty("parameters").GetInt64());
        Assert.True(e.GetProperty("ratio").GetDouble() > 10);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/estimate?arch=nope")).StatusCode);
    }
}
