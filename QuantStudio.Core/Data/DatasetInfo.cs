namespace QuantStudio.Core.Data;

public enum DatasetKind
{
    /// <summary>Images (float32 N×C×H×W inputs) with int64 class targets.</summary>
    Image,
    /// <summary>Character sequences (int64 N×L token inputs) with int64 next-token targets (N×L).</summary>
    CharText,
}

/// <summary>What a model needs to know about a dataset: input shape, classes, normalization, augmentation.</summary>
public sealed record DatasetInfo
{
    public required string Name { get; init; }
    public required DatasetKind Kind { get; init; }
    /// <summary>Image channels (1 or 3); 0 for text.</summary>
    public int Channels { get; init; }
    public int Height { get; init; }
    public int Width { get; init; }
    /// <summary>Output classes: image classes, or the vocabulary size for a character LM.</summary>
    public required int NumClasses { get; init; }
    /// <summary>Character LM vocabulary size (equals <see cref="NumClasses"/>); 0 for images.</summary>
    public int VocabSize { get; init; }
    /// <summary>The characters of the vocabulary in token order (text only).</summary>
    public string? Vocabulary { get; init; }
    /// <summary>Tokens per training sequence (text only).</summary>
    public int SequenceLength { get; init; }
    /// <summary>Per-channel mean/std applied to pixels scaled to [0, 1]; null for text.</summary>
    public Normalization? Normalization { get; init; }
    /// <summary>The augmentation a training loader applies when the spec asks for it.</summary>
    public AugmentationPolicy Augmentation { get; init; } = AugmentationPolicy.None;
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>The shape of one example: [C, H, W] for images, [L] for text.</summary>
    public long[] ExampleShape => Kind == DatasetKind.Image ? [Channels, Height, Width] : [SequenceLength];
}

/// <summary>Random crop after zero padding and horizontal flip (the CIFAR recipe); padding 0 disables the crop.</summary>
public sealed record AugmentationPolicy(int Padding, bool HorizontalFlip)
{
    public static readonly AugmentationPolicy None = new(0, false);
    public static readonly AugmentationPolicy CropAndFlip = new(4, true);
    public bool IsNone => Padding == 0 && !HorizontalFlip;
}
