using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

/// <summary>A follower ends where the run currently ends: not at an earlier attempt's terminal event, and never hangs on an ended run.</summary>
public sealed class HubFollowEndTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private static long[] Seqs(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("seq").GetInt64()).ToArray();

    /// <summary>Runs a run into a cancel (after RunStarted and PhaseStarted), resumes it and lets it finish; returns its id and last seq.</summary>
    private async Task<(long Id, long LastSeq)> CancelResumeFinishAsync(HttpClient client)
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForLastSeqAsync(client, id, 2);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, "cancelled");
        factory.Runner.Gate = null;
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        var done = await TestSpecs.WaitForStatusAsync(client, id, "finished");
        return (id, done.GetProperty("last_seq").GetInt64());
    }

    [Fact]
    public async Task Follow_of_a_cancelled_resumed_and_finished_run_gets_every_event_once_and_completes()
    {
        var client = factory.CreateClient();
        var (id, lastSeq) = await CancelResumeFinishAsync(client);
        Assert.Equal(3 + factory.Runner.EventCount, lastSeq);

        await using var hub = await factory.ConnectHubAsync();
        var items = await (await hub.StreamAsync("Follow", [id, 0])).ReadAllAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(1, (int)lastSeq).Select(i => (long)i), Seqs(items));
        Assert.Equal("run_cancelled", items[2].GetProperty("type").GetString());
        Assert.Equal("run_finished", items[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task FollowFrames_of_a_cancelled_resumed_and_finished_run_reaches_its_last_seq_and_completes()
    {
        var client = factory.CreateClient();
        var (id, lastSeq) = await CancelResumeFinishAsync(client);

        await using var hub = await factory.ConnectHubAsync();
        var frames = await (await hub.StreamAsync("FollowFrames", [id, 0])).ReadAllAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(lastSeq, frames[^1].GetProperty("last_seq").GetInt64());
        var events = frames.SelectMany(f => f.GetProperty("events").EnumerateArray()).ToList();
        Assert.Equal(lastSeq, events.Count + frames.Sum(f => f.GetProperty("thinned").GetInt32()));
        Assert.Equal(Seqs(events).Order(), Seqs(events));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task Following_a_finished_run_from_its_last_seq_or_later_completes_with_nothing(int beyond)
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        var last = (await TestSpecs.WaitForStatusAsync(client, id, "finished")).GetProperty("last_seq").GetInt64();

        await using var hub = await factory.ConnectHubAsync();
        Assert.Empty(await (await hub.StreamAsync("Follow", [id, last + beyond])).ReadAllAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(await (await hub.StreamAsync("FollowFrames", [id, last + beyond])).ReadAllAsync(TimeSpan.FromSeconds(10)));
    }
}
