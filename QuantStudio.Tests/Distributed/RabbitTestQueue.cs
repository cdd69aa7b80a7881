using RabbitMQ.Client;

namespace QuantStudio.Tests.Distributed;

/// <summary>A work queue of its own for one test on the local broker (QUANTSTUDIO_TEST_RABBITMQ overrides it); deleted at the end.</summary>
public sealed class RabbitTestQueue : IAsyncDisposable
{
    public const string EnvironmentVariable = "QUANTSTUDIO_TEST_RABBITMQ";
    public const string DefaultUri = "amqp://guest:guest@127.0.0.1:5672/";

    public string Uri { get; } = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } u ? u : DefaultUri;
    public string Name { get; } = "qs-test-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Messages in the queue, ready or delivered and not acknowledged (rabbitmqctl's count).</summary>
    public static async Task<(int Ready, int Unacknowledged)> CountAsync(string queue, string? node = null)
    {
        var (code, output) = node is null
            ? await RabbitCtlAsync("list_queues", "-q", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged")
            : await RabbitCtlAsync("-n", node, "list_queues", "-q", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged");
        Assert.True(code == 0, $"rabbitmqctl list_queues failed: {output}");
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t', StringSplitOptions.TrimEntries);
            if (parts.Length == 3 && parts[0] == queue)
                return (int.Parse(parts[1]), int.Parse(parts[2]));
        }
        return (0, 0);
    }

    public Task<(int Ready, int Unacknowledged)> CountAsync() => CountAsync(Name);

    /// <summary>
    /// Waits until no message is left (ready or unacknowledged): a worker acknowledges a message it was given again (after a broker
    /// restart, say) once it finds its run ended, which may be a moment after the run ended.
    /// </summary>
    public async Task AssertDrainsAsync(TimeSpan timeout, Func<string> context)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var count = await CountAsync();
            if (count == (0, 0))
                return;
            Assert.True(DateTime.UtcNow < deadline, $"the queue still holds {count.Ready} ready and {count.Unacknowledged} unacknowledged messages\n{context()}");
            await Task.Delay(250);
        }
    }

    public static Task<(int Code, string Output)> RabbitCtlAsync(params string[] args) => LocalServers.RunAsync("rabbitmqctl", args);

    public async ValueTask DisposeAsync()
    {
        try
        {
            var factory = new ConnectionFactory { Uri = new System.Uri(Uri) };
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(Name, ifUnused: false, ifEmpty: false);
        }
        catch (Exception)
        {
            // The broker may be restarting in the test that used it; the queue is then left, named for this test only.
        }
    }
}
