using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A minimal SignalR client speaking the JSON hub protocol over a WebSocket: the handshake, stream
/// invocations (type 4), stream items (2), completions (3) and pings (6). Records end with 0x1E.
/// </summary>
public sealed class HubProtocolClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly WebSocket socket;
    private readonly Dictionary<string, Channel<JsonElement>> streams = [];
    private readonly Dictionary<string, TaskCompletionSource<string?>> completions = [];
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stop = new();
    private Task? receiveLoop;
    private int nextId;

    private HubProtocolClient(WebSocket socket) => this.socket = socket;

    public static async Task<HubProtocolClient> ConnectAsync(Func<Uri, CancellationToken, Task<WebSocket>> connect, Uri hubUri, CancellationToken ct = default)
    {
        var socket = await connect(hubUri, ct);
        var client = new HubProtocolClient(socket);
        await client.SendAsync("""{"protocol":"json","version":1}""", ct);
        var handshake = await client.ReceiveRecordsAsync(ct);
        using (var doc = JsonDocument.Parse(handshake[0]))
        {
            if (doc.RootElement.TryGetProperty("error", out var error))
                throw new InvalidOperationException("handshake refused: " + error.GetString());
        }
        client.receiveLoop = Task.Run(client.ReceiveLoopAsync);
        return client;
    }

    /// <summary>Starts a streaming method; read items from the channel; it completes (or faults with the hub's error) with the stream.</summary>
    public async Task<ChannelReader<JsonElement>> StreamAsync(string target, object?[] arguments, CancellationToken ct = default)
    {
        var id = Interlocked.Increment(ref nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var channel = Channel.CreateUnbounded<JsonElement>();
        lock (gate)
            streams[id] = channel;
        var message = JsonSerializer.Serialize(new { type = 4, invocationId = id, target, arguments });
        await SendAsync(message, ct);
        return channel.Reader;
    }

    /// <summary>Cancels a stream (CancelInvocation, type 5).</summary>
    public Task CancelStreamAsync(string invocationId, CancellationToken ct = default) =>
        SendAsync(JsonSerializer.Serialize(new { type = 5, invocationId }), ct);

    private async Task SendAsync(string json, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(json + RecordSeparator);
        await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
    }

    private readonly StringBuilder pending = new();

    private async Task<List<string>> ReceiveRecordsAsync(CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
                throw new WebSocketException("the hub closed the connection");
            pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            var text = pending.ToString();
            var last = text.LastIndexOf(RecordSeparator);
            if (last < 0)
                continue;
            pending.Clear();
            pending.Append(text[(last + 1)..]);
            return text[..last].Split(RecordSeparator).Where(r => r.Length > 0).ToList();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var record in await ReceiveRecordsAsync(stop.Token))
                    Dispatch(record);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            lock (gate)
            {
                foreach (var s in streams.Values)
                    s.Writer.TryComplete(ex is OperationCanceledException ? null : ex);
            }
        }
    }

    private void Dispatch(string record)
    {
        using var doc = JsonDocument.Parse(record);
        var root = doc.RootElement;
        var type = root.GetProperty("type").GetInt32();
        switch (type)
        {
            case 2:
            {
                var id = root.GetProperty("invocationId").GetString()!;
                Channel<JsonElement>? ch;
                lock (gate)
                    streams.TryGetValue(id, out ch);
                ch?.Writer.TryWrite(root.GetProperty("item").Clone());
                break;
            }
            case 3:
            {
                var id = root.GetProperty("invocationId").GetString()!;
                Channel<JsonElement>? ch;
                lock (gate)
                    streams.Remove(id, out ch);
                var error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                ch?.Writer.TryComplete(error is null ? null : new InvalidOperationException(error));
                break;
            }
            case 6: // ping
                break;
            case 7: // close
                stop.Cancel();
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (socket.State == WebSocketState.Open)
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server may already have gone.
        }
        await stop.CancelAsync();
        if (receiveLoop is not null)
        {
            try
            {
                await receiveLoop;
            }
            catch (Exception)
            {
                // The loop ends by cancellation or a closed socket; either is fine here.
            }
        }
        socket.Dispose();
        stop.Dispose();
    }
}

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
