using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

/// <summary>metrics.jsonl holds each stored event of a run exactly once, one whole JSON object per line, in seq order.</summary>
public sealed class MetricsFileTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Fact]
    public async Task A_cancelled_and_resumed_run_has_each_stored_event_once_in_its_metrics_file()
    {
        var client = factory.CreateClient();
        factory.Runner.Gate = new SemaphoreSlim(0);
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForLastSeqAsync(client, id, 2);
        factory.Runner.Gate.Release(3);
        await TestSpecs.WaitForLastSeqAsync(client, id, 5);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, "cancelled");
        factory.Runner.Gate = null;
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        var done = await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(6 + factory.Runner.EventCount, done.GetProperty("last_seq").GetInt64());

        await MetricsFileAssert.HoldsTheStoredEventsAsync(client, factory.DataDirectory, id);
    }

    [Fact]
    public async Task A_run_cancelled_while_queued_has_its_cancel_event_in_its_metrics_file()
    {
        var client = factory.CreateClient();
        factory.Runner.Gate = new SemaphoreSlim(0);
        var first = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForLastSeqAsync(client, first, 2);
        var queued = await TestSpecs.CreateRunAsync(client);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{queued}/cancel", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, queued, "cancelled");

        await MetricsFileAssert.HoldsTheStoredEventsAsync(client, factory.DataDirectory, queued);
        factory.Runner.Gate.Release(100);
    }
}

public static class MetricsFileAssert
{
    /// <summary>Asserts the run's metrics.jsonl is its stored events, line for line.</summary>
    public static async Task HoldsTheStoredEventsAsync(HttpClient client, string dataDirectory, long id)
    {
        var stored = (await client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{id}/events?limit=10000"))!;
        var lines = File.ReadAllLines(Path.Combine(dataDirectory, "runs", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "metrics.jsonl"));
        var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(1, stored.Length).Select(i => (long)i), parsed.Select(e => e.GetProperty("seq").GetInt64()));
        // Compared as written by one serializer: the API re-escapes some characters (a time's '+') that the file keeps as they are.
        Assert.Equal(stored.Select(e => JsonSerializer.Serialize(e)), parsed.Select(e => JsonSerializer.Serialize(e)));
    }
}
