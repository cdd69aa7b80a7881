using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace QuantStudio.Core.Distributed;

/// <summary>What a worker does with a delivery once it has handled the run.</summary>
public enum DeliveryVerdict
{
    /// <summary>The run's outcome is stored (or the run needs nothing more): remove the message.</summary>
    Ack,
    /// <summary>The run goes back to the queue for another worker (this one is stopping).</summary>
    Requeue,
}

/// <summary>
/// One message of the work queue: the id of a run to train (null when the body is not one). Acknowledged on the channel it came
/// on; when that channel has closed meanwhile (the broker restarted, say), the broker has already put the message back and will
/// deliver it again, so the acknowledgement is dropped and the claim decides what the redelivery needs.
/// </summary>
public sealed class RunDelivery(IChannel channel, ulong deliveryTag, bool redelivered, long? runId)
{
    public long? RunId { get; } = runId;
    public bool Redelivered { get; } = redelivered;
    public ulong DeliveryTag { get; } = deliveryTag;

    /// <summary>False once the channel it came on has closed: the broker has put the message back for another consumer.</summary>
    public bool IsHeld => channel.IsOpen;

    /// <summary>False when the channel had closed (the message will come again).</summary>
    public async Task<bool> AckAsync()
    {
        try
        {
            if (!channel.IsOpen)
                return false;
            await channel.BasicAckAsync(DeliveryTag, multiple: false);
            return true;
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Puts the message back for another consumer; false when the channel had closed (it is back already).</summary>
    public async Task<bool> RequeueAsync()
    {
        try
        {
            if (!channel.IsOpen)
                return false;
            await channel.BasicNackAsync(DeliveryTag, multiple: false, requeue: true);
            return true;
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Drops a message that names no run (nothing could ever handle it).</summary>
    public async Task RejectAsync()
    {
        try
        {
            if (channel.IsOpen)
                await channel.BasicRejectAsync(DeliveryTag, requeue: false);
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
        }
    }
}
