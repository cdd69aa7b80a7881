using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Data;

/// <summary>Turns a pool of examples into splits according to a <see cref="DatasetSpec"/> and the seed.</summary>
internal static class SplitPlanner
{
    /// <summary>
    /// Shuffles 0..count-1 with the seed, keeps the first <c>subset</c> (all when null), and holds out
    /// round(fraction · kept) of them. Both parts come back sorted, so the stored order never depends on the seed.
    /// </summary>
    public static (int[] Kept, int[] HeldOut) Plan(int count, double heldOutFraction, int? subset, long seed)
    {
        var order = DeterministicRandom.For(seed, RandomStreams.Split).Permutation(count);
        var n = Math.Min(subset ?? count, count);
        var held = (int)Math.Round(n * heldOutFraction, MidpointRounding.AwayFromZero);
        var kept = order[..(n - held)];
        var heldOut = order[(n - held)..n];
        Array.Sort(kept);
        Array.Sort(heldOut);
        return (kept, heldOut);
    }

    /// <summary>Assembles an image dataset; <paramref name="test"/> null means the pool is the only data (a test-only folder).</summary>
    public static LoadedDataset Images(DatasetInfo info, ImageSet pool, ImageSet? test, DatasetLoadContext context, string source)
    {
        var spec = context.Spec;
        var norm = info.Normalization ?? throw new ArgumentException("image datasets need a normalization", nameof(info));
        var (kept, held) = Plan(pool.Count, spec.ValidationSplit, spec.Subset, context.Seed);
        if (kept.Length == 0)
            throw new ArgumentException($"dataset.subset / dataset.validation_split leave no training examples out of {pool.Count} in {source}");
        var train = new ImageDataSplit("train", pool.Select(kept), norm, info.Augmentation);
        string? note = null;
        DataSplit validation, testSplit;
        if (test is not null)
        {
            testSplit = new ImageDataSplit("test", test, norm, info.Augmentation);
            validation = held.Length > 0
                ? new ImageDataSplit("validation", pool.Select(held), norm, info.Augmentation) { HeldOutOfTrainingPool = true }
                : testSplit;
        }
        else
        {
            if (held.Length == 0)
                throw new ArgumentException(
                    $"dataset.validation_split: {source} holds only test files, so the held-out part is the test set; set validation_split above 0 (e.g. 0.2)");
            testSplit = new ImageDataSplit("test", pool.Select(held), norm, info.Augmentation) { HeldOutOfTrainingPool = true };
            validation = testSplit;
            note = $"{source} holds test files only: {kept.Length} examples for training and {held.Length} held out for validation and test";
        }
        return new LoadedDataset(info, train, validation, testSplit, context.Seed, spec.Augment) { Note = note };
    }

    /// <summary>
    /// Assembles a character dataset. Text keeps its order (a random cut would leak context), so the
    /// held-out part is the tail of the training text. With no separate test text, the tail is both
    /// validation and test. <c>subset</c> counts training sequences; with it only the start of the text is used, as much as
    /// those sequences and their held-out share take (validation_split of it), so the held-out part shrinks with the subset.
    /// </summary>
    public static LoadedDataset Text(DatasetInfo info, int[] trainTokens, int[]? testTokens, DatasetLoadContext context, string source)
    {
        var spec = context.Spec;
        var l = info.SequenceLength;
        if (spec.Subset is { } n)
        {
            var needed = (long)n * l + 1;
            var used = (long)Math.Ceiling(needed / (1 - spec.ValidationSplit));
            if (used < trainTokens.Length)
                trainTokens = trainTokens[..(int)used];
        }
        var heldCount = (int)Math.Round(trainTokens.Length * spec.ValidationSplit, MidpointRounding.AwayFromZero);
        var head = trainTokens[..(trainTokens.Length - heldCount)];
        var tail = trainTokens[(trainTokens.Length - heldCount)..];
        if (spec.Subset is { } s && (long)s * l + 1 < head.Length)
            head = head[..(s * l + 1)];
        var train = new TokenDataSplit("train", head, l, info.VocabSize);
        if (train.Count == 0)
            throw new ArgumentException($"{source}: the training text ({head.Length} characters) is shorter than one sequence of {l} + 1 characters");
        string? note = null;
        DataSplit validation, test;
        if (testTokens is not null)
        {
            test = new TokenDataSplit("test", testTokens, l, info.VocabSize);
            validation = heldCount > 0 ? new TokenDataSplit("validation", tail, l, info.VocabSize) { HeldOutOfTrainingPool = true } : test;
        }
        else
        {
            if (heldCount == 0)
                throw new ArgumentException($"dataset.validation_split: {source} is a single text, so the held-out tail is the test set; set validation_split above 0 (e.g. 0.1)");
            test = new TokenDataSplit("test", tail, l, info.VocabSize) { HeldOutOfTrainingPool = true };
            validation = test;
            note = $"{source}: first {head.Length} characters for training, last {tail.Length} held out for validation and test";
        }
        if (test.Count == 0)
            throw new ArgumentException($"{source}: the held-out text ({tail.Length} characters) is shorter than one sequence of {l} + 1 characters; raise dataset.validation_split");
        return new LoadedDataset(info, train, validation, test, context.Seed, augment: false) { Note = note };
    }
}
