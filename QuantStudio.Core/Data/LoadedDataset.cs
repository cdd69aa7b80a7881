namespace QuantStudio.Core.Data;

/// <summary>
/// A dataset ready to train on: its description and its train, validation and test splits. When a
/// spec's validation split is 0, <see cref="Validation"/> is the test split; when a folder holds only
/// test files (or one text file), the held-out part serves as both validation and test.
/// </summary>
public sealed class LoadedDataset(DatasetInfo info, DataSplit train, DataSplit validation, DataSplit test, long seed, bool augment)
{
    public DatasetInfo Info { get; } = info;
    public DataSplit Train { get; } = train;
    public DataSplit Validation { get; } = validation;
    public DataSplit Test { get; } = test;
    /// <summary>The spec's seed: it keys the split, every epoch's order and every augmentation draw.</summary>
    public long Seed { get; } = seed;
    /// <summary>Whether training batches are augmented (the spec asked for it and the dataset has a policy).</summary>
    public bool Augment { get; } = augment && !info.Augmentation.IsNone;
    /// <summary>How the splits were formed, for logs (e.g. "test files only: 8000 train / 2000 held out").</summary>
    public string? Note { get; init; }

    /// <summary>A shuffling (and, if enabled, augmenting) loader over the training split.</summary>
    public BatchLoader CreateTrainLoader(int batchSize, int prefetch = 3, bool dropLast = false) =>
        new(Train, new BatchLoaderOptions
        {
            BatchSize = batchSize, Shuffle = true, Augment = Augment, DropLast = dropLast, Seed = Seed, Prefetch = prefetch,
        });

    /// <summary>An in-order, unaugmented loader (for evaluation, or for computing teacher logits once).</summary>
    public BatchLoader CreateEvalLoader(DataSplit split, int batchSize, int prefetch = 2) =>
        new(split, new BatchLoaderOptions { BatchSize = batchSize, Shuffle = false, Augment = false, Seed = Seed, Prefetch = prefetch });
}
