namespace QuantStudio.Core.Data;

public sealed record BatchLoaderOptions
{
    public int BatchSize { get; init; } = 64;
    /// <summary>Reorder the examples every epoch, from (seed, epoch).</summary>
    public bool Shuffle { get; init; }
    /// <summary>Apply the split's augmentation policy (training only).</summary>
    public bool Augment { get; init; }
    /// <summary>Skip a last batch smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }
    public long Seed { get; init; } = 1;
    /// <summary>Batches prepared ahead of the consumer.</summary>
    public int Prefetch { get; init; } = 3;
}

/// <summary>
/// Cuts a split into batches. The order of an epoch depends only on (seed, epoch), so a run resumed
/// at epoch e, batch k sees exactly the batches an uninterrupted run would have seen.
/// </summary>
public sealed class BatchLoader
{
    public BatchLoader(DataSplit split, BatchLoaderOptions options)
    {
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "batch size must be at least 1");
        if (options.Prefetch < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Prefetch, "prefetch must be at least 1");
        Split = split;
        Options = options;
    }

    public DataSplit Split { get; }
    public BatchLoaderOptions Options { get; }

    public int BatchesPerEpoch => Options.DropLast
        ? Split.Count / Options.BatchSize
        : (Split.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The example positions of epoch <paramref name="epoch"/>, in the order they are served.</summary>
    public int[] EpochOrder(int epoch)
    {
        if (!Options.Shuffle)
            return Enumerable.Range(0, Split.Count).ToArray();
        return DeterministicRandom.For(Options.Seed, RandomStreams.EpochOrder, epoch).Permutation(Split.Count);
    }

    /// <summary>
    /// Starts preparing epoch <paramref name="epoch"/> from batch <paramref name="startBatch"/> on a
    /// background thread right away. Enumerate the result once and dispose each batch; disposing the
    /// result stops the producer and frees the batches it had prepared.
    /// </summary>
    public EpochBatches Epoch(int epoch, int startBatch = 0, CancellationToken cancellationToken = default)
    {
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"must be in [0, {BatchesPerEpoch}] for an epoch of {BatchesPerEpoch} batches");
        return new EpochBatches(this, epoch, startBatch, cancellationToken);
    }

    /// <summary>Builds batch <paramref name="batchIndex"/> of an epoch whose order is <paramref name="order"/>.</summary>
    internal Batch CreateBatch(int[] order, int epoch, int batchIndex)
    {
        var start = batchIndex * Options.BatchSize;
        var length = Math.Min(Options.BatchSize, order.Length - start);
        return Split.CreateBatch(order.AsSpan(start, length), Options.Augment, Options.Seed, epoch, batchIndex);
    }
}
