using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A minimal SignalR client speaking the JSON hub protocol over a WebSocket: the handshake, stream
/// invocations (type 4), stream items (2), completions (3) and pings (6). Records end with 0x1E.
/// Like the official clients it sends a ping every <see cref="KeepAliveInterval"/>, so the server does
/// not drop a connection that only listens (its client timeout is 30 s). Shared by the tests and bench/web.
/// </summary>
public sealed class HubProtocolClient : IAsyncDisposable
{
    /// <summary>The official clients' default keep-alive.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    private const char RecordSeparator = '\u001e';
    private readonly WebSocket socket;
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private Task? keepAlive;
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
        client.keepAlive = Task.Run(client.KeepAliveAsync);
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
        // A WebSocket allows one send at a time; invocations and pings come from different tasks.
        await sendLock.WaitAsync(ct);
        try
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            sendLock.Release();
        }
    }

    private async Task KeepAliveAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(KeepAliveInterval, stop.Token);
                await SendAsync("""{"type":6}""", stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped, or the connection is gone: the receive loop reports that.
        }
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
            if (socket.State == WebSocketState.Open && await sendLock.WaitAsync(TimeSpan.FromSeconds(5)))
            {
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
                }
                finally
                {
                    sendLock.Release();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server may already have gone.
        }
        await stop.CancelAsync();
        foreach (var loop in new[] { receiveLoop, keepAlive })
        {
            if (loop is null)
                continue;
            try
            {
                await loop;
            }
            catch (Exception)
            {
                // The loops end by cancellation or a closed socket; either is fine here.
            }
        }
        socket.Dispose();
        sendLock.Dispose();
        stop.Dispose();
    }
}
