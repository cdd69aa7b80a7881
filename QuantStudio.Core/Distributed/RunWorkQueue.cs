using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace QuantStudio.Core.Distributed;

/// <summary>
/// The RabbitMQ work queue of runs: a durable quorum queue holding one persistent message per queued run (its body the run's
/// id). Web nodes publish with publisher confirms; workers consume with a prefetch of one and acknowledge a message only
/// once the run's outcome is stored, so the broker hands the run to another worker when one dies. Connections are our own
/// to reopen: a publish retries on a fresh connection, and the consumer loop reconnects after the broker restarts or closes
/// its channel (a consumer_timeout), leaving the redelivered messages to the claim logic.
/// </summary>
public sealed class RunWorkQueue : IAsyncDisposable
{
    private readonly ConnectionFactory factory;
    private readonly string queue;
    private readonly string clientName;
    private readonly ILogger log;
    private readonly SemaphoreSlim publishGate = new(1, 1);
    private IConnection? publishConnection;
    private IChannel? publishChannel;

    public RunWorkQueue(string amqpUri, string queue, string clientName, ILogger? log = null)
    {
        factory = new ConnectionFactory
        {
            Uri = new Uri(amqpUri),
            // Reconnecting is ours (see the class comment): the client's recovery would silently drop the acknowledgements of
            // deliveries made before it, which we want to see.
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = TimeSpan.FromSeconds(15),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
        };
        this.queue = queue;
        this.clientName = clientName;
        this.log = log ?? NullLogger.Instance;
    }

    public string QueueName => queue;

    /// <summary>How long a publish keeps trying while the broker is unreachable before it gives up.</summary>
    public TimeSpan PublishPatience { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The wait between two connection attempts of the consumer loop.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The queue's arguments: a quorum queue (replicated, durable; its messages survive a broker restart).</summary>
    public static Dictionary<string, object?> QueueArguments() => new() { ["x-queue-type"] = "quorum" };

    private Task DeclareAsync(IChannel channel, CancellationToken ct) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: QueueArguments(), cancellationToken: ct);

    /// <summary>Declares the queue (idempotent): a web node does it at start, so runs published before any worker starts wait there.</summary>
    public async Task EnsureQueueAsync(CancellationToken ct = default)
    {
        await using var connection = await factory.CreateConnectionAsync(clientName, ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await DeclareAsync(channel, ct);
    }

    /// <summary>
    /// Publishes a run and waits for the broker's confirm (the message is then on disk on a quorum of nodes). Retries on a new
    /// connection until <see cref="PublishPatience"/> runs out, then throws.
    /// </summary>
    public async Task PublishAsync(long runId, CancellationToken ct = default)
    {
        var body = Encoding.ASCII.GetBytes(runId.ToString(CultureInfo.InvariantCulture));
        var properties = new BasicProperties { Persistent = true, ContentType = "text/plain" };
        var deadline = DateTimeOffset.UtcNow + PublishPatience;
        var delay = TimeSpan.FromMilliseconds(200);
        await publishGate.WaitAsync(ct);
        try
        {
            while (true)
            {
                try
                {
                    var channel = await PublishChannelAsync(ct);
                    // With confirmation tracking this returns once the broker confirmed, and throws if it refused or returned it.
                    await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, ct);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    await ClosePublisherAsync();
                    if (DateTimeOffset.UtcNow + delay > deadline)
                        throw new InvalidOperationException($"could not publish run {runId} to the queue '{queue}': {e.Message}", e);
                    log.LogWarning("Publishing run {RunId} failed ({Error}); retrying", runId, e.Message);
                    await Task.Delay(delay, ct);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
                }
            }
        }
        finally
        {
            publishGate.Release();
        }
    }

    private async Task<IChannel> PublishChannelAsync(CancellationToken ct)
    {
        if (publishChannel is { IsOpen: true } open)
            return open;
        await ClosePublisherAsync();
        publishConnection = await factory.CreateConnectionAsync(clientName, ct);
        publishChannel = await publishConnection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        await DeclareAsync(publishChannel, ct);
        return publishChannel;
    }

    private async Task ClosePublisherAsync()
    {
        var channel = publishChannel;
        var connection = publishConnection;
        publishChannel = null;
        publishConnection = null;
        try
        {
            if (channel is not null)
                await channel.DisposeAsync();
            if (connection is not null)
                await connection.DisposeAsync();
        }
        catch (Exception e)
        {
            log.LogDebug(e, "Closing the publisher's connection failed");
        }
    }

    /// <summary>
    /// Consumes runs one at a time until <paramref name="ct"/> is cancelled: each delivery goes to <paramref name="handle"/>,
    /// which acknowledges it (or not). The broker gives this consumer one unacknowledged message at a time. When the
    /// connection or channel closes, the loop opens new ones once the handler in progress has returned.
    /// </summary>
    public async Task ConsumeAsync(Func<RunDelivery, CancellationToken, Task> handle, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(clientName, ct);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
                await DeclareAsync(channel, ct);
                await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: 1, global: false, ct);
                var deliveries = Channel.CreateUnbounded<RunDelivery>(new UnboundedChannelOptions { SingleReader = true });
                string? closedBecause = null;
                channel.ChannelShutdownAsync += (_, e) =>
                {
                    closedBecause = $"{e.ReplyCode} {e.ReplyText}";
                    // Said at once: a run in progress trains on, and its message goes back to the queue (consumer_timeout, say).
                    if (e.Initiator != ShutdownInitiator.Application)
                        log.LogWarning("The queue's channel was closed by {Initiator}: {Reason}", e.Initiator, closedBecause);
                    deliveries.Writer.TryComplete();
                    return Task.CompletedTask;
                };
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, e) =>
                {
                    // The body is valid only during this call.
                    deliveries.Writer.TryWrite(new RunDelivery(channel, e.DeliveryTag, e.Redelivered, ParseRunId(e.Body.Span)));
                    return Task.CompletedTask;
                };
                await channel.BasicConsumeAsync(queue, autoAck: false, consumer, ct);
                log.LogInformation("Consuming runs from the queue '{Queue}'", queue);
                await foreach (var delivery in deliveries.Reader.ReadAllAsync(ct))
                    await handle(delivery, ct);
                if (!ct.IsCancellationRequested)
                    log.LogWarning("The queue's channel closed ({Reason}); reconnecting", closedBecause);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not WorkerStoreException)
            {
                log.LogWarning("The queue '{Queue}' is unreachable ({Error}); trying again in {Delay} s", queue, e.Message, ReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(ReconnectDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>The run id a message names (ASCII digits), or null.</summary>
    public static long? ParseRunId(ReadOnlySpan<byte> body) =>
        long.TryParse(Encoding.ASCII.GetString(body).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    public async ValueTask DisposeAsync()
    {
        await ClosePublisherAsync();
        publishGate.Dispose();
    }
}
