namespace QuantStudio.Core.Data;

/// <summary>One part of a dataset (train, validation or test) that can build a batch from example positions.</summary>
public abstract class DataSplit
{
    protected DataSplit(string name) => Name = name;

    /// <summary><c>train</c>, <c>validation</c> or <c>test</c>.</summary>
    public string Name { get; }
    public abstract int Count { get; }

    /// <summary>
    /// Builds a batch from the examples at <paramref name="indices"/>. With <paramref name="augment"/>,
    /// each example's random draw depends only on (seed, epoch, example), so the result does not depend
    /// on batch composition, order or thread.
    /// </summary>
    public abstract Batch CreateBatch(ReadOnlySpan<int> indices, bool augment, long seed, int epoch, int batchIndex);
}
