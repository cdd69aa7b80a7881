namespace QuantStudio.Core.Data;

/// <summary>One part of a dataset (train, validation or test) that can build a batch from example positions.</summary>
public abstract class DataSplit
{
    protected DataSplit(string name) => Name = name;

    /// <summary><c>train</c>, <c>validation</c> or <c>test</c>.</summary>
    public string Name { get; }
    public abstract int Count { get; }

    /// <summary>
    /// The split was held out of the pool the training examples come from (by the seeded shuffle, or as a text's tail):
    /// which examples it holds depends on the seed, validation split and subset, and with other values than the run's it
    /// holds examples the run trained on.
    /// </summary>
    public bool HeldOutOfTrainingPool { get; init; }

    /// <summary>
    /// Builds a batch from the examples at <paramref name="indices"/>. With <paramref name="augment"/>,
    /// each example's random draw depends only on (seed, epoch, example), so the result does not depend
    /// on batch composition, order or thread.
    /// </summary>
    public abstract Batch CreateBatch(ReadOnlySpan<int> indices, bool augment, long seed, int epoch, int batchIndex);
}
