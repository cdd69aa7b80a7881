using System.Collections;
using System.Threading.Channels;

namespace QuantStudio.Core.Data;

/// <summary>
/// The batches of one epoch, produced on a background thread into a bounded channel so the trainer
/// rarely waits: while it runs step k, batches k+1 .. k+prefetch are being built.
/// </summary>
public sealed class EpochBatches : IEnumerable<Batch>, IDisposable
{
    private readonly Channel<Batch> channel;
    private readonly CancellationTokenSource stop;
    private readonly Task producer;
    private int produced;
    private int enumerated;
    private int disposed;

    internal EpochBatches(BatchLoader loader, int epoch, int startBatch, CancellationToken cancellationToken)
    {
        Epoch = epoch;
        StartBatch = startBatch;
        EndBatch = loader.BatchesPerEpoch;
        channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(loader.Options.Prefetch)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        producer = Task.Run(() => ProduceAsync(loader, stop.Token));
    }

    public int Epoch { get; }
    public int StartBatch { get; }
    /// <summary>One past the last batch index of the epoch.</summary>
    public int EndBatch { get; }
    /// <summary>Batches built so far by the background thread (for diagnostics and tests).</summary>
    public int ProducedCount => Volatile.Read(ref produced);

    private async Task ProduceAsync(BatchLoader loader, CancellationToken token)
    {
        Exception? failure = null;
        try
        {
            var order = loader.EpochOrder(Epoch);
            for (var b = StartBatch; b < EndBatch; b++)
            {
                token.ThrowIfCancellationRequested();
                var batch = loader.CreateBatch(order, Epoch, b);
                Interlocked.Increment(ref produced);
                try
                {
                    await channel.Writer.WriteAsync(batch, token).ConfigureAwait(false);
                }
                catch
                {
                    batch.Dispose();
                    throw;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            channel.Writer.TryComplete(failure);
        }
    }

    public IEnumerator<Batch> GetEnumerator()
    {
        if (Interlocked.Exchange(ref enumerated, 1) != 0)
            throw new InvalidOperationException("the batches of an epoch can be enumerated only once; call BatchLoader.Epoch again");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return Read();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<Batch> Read()
    {
        var reader = channel.Reader;
        try
        {
            while (true)
            {
                // A cancelled run stops at once, even when batches are waiting in the channel.
                stop.Token.ThrowIfCancellationRequested();
                if (reader.TryRead(out var batch))
                {
                    yield return batch;
                    continue;
                }
                // Throws the producer's exception (or OperationCanceledException) if it failed or was cancelled.
                if (!reader.WaitToReadAsync(stop.Token).AsTask().GetAwaiter().GetResult())
                    break;
            }
            // Surface a failure recorded after the last batch was read.
            reader.Completion.GetAwaiter().GetResult();
        }
        finally
        {
            // The consumer stopped (break, exception or the end): free whatever was prepared ahead.
            Dispose();
        }
    }

    /// <summary>Stops the producer and disposes the batches it prepared that were never handed out.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        stop.Cancel();
        try
        {
            producer.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        while (channel.Reader.TryRead(out var leftover))
            leftover.Dispose();
        stop.Dispose();
    }
}
