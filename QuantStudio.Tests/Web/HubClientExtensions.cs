using System.Text.Json;
using System.Threading.Channels;

namespace QuantStudio.Tests.Web;

public static class HubClientExtensions
{
    public static Task<HubProtocolClient> ConnectHubAsync(this QuantStudioFactory factory)
    {
        var ws = factory.Server.CreateWebSocketClient();
        return HubProtocolClient.ConnectAsync((uri, ct) => ws.ConnectAsync(uri, ct), new Uri("ws://localhost/hubs/runs"));
    }

    public static async Task<List<JsonElement>> ReadAllAsync(this ChannelReader<JsonElement> reader, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var items = new List<JsonElement>();
        await foreach (var item in reader.ReadAllAsync(cts.Token))
            items.Add(item);
        return items;
    }
}
