namespace QuantStudio.Core.Data;

/// <summary><c>shapes</c>: the procedural 10-class 3×32×32 image set, generated from the seed (the offline default).</summary>
public sealed class ShapesSource : IDatasetSource
{
    public string Name => "shapes";
    public DatasetKind Kind => DatasetKind.Image;
    public string Description => "procedural 10-class 3×32×32 shapes, generated from the seed (no files needed)";
    public bool IsGenerated => true;
    public IReadOnlyList<RemoteFile> Downloads => [];

    public Task<LoadedDataset> LoadAsync(DatasetLoadContext context)
    {
        var o = context.Options;
        var train = ShapesGenerator.Generate(o.ShapesTrainCount, context.Seed, testSplit: false);
        var test = ShapesGenerator.Generate(o.ShapesTestCount, context.Seed, testSplit: true);
        var info = new DatasetInfo
        {
            Name = Name,
            Kind = DatasetKind.Image,
            Channels = ShapesGenerator.Channels,
            Height = ShapesGenerator.Size,
            Width = ShapesGenerator.Size,
            NumClasses = ShapesGenerator.Classes,
            // Measured on the generated training images, so inputs are centred whatever the seed.
            Normalization = Normalization.Compute(train),
            // Every class is symmetric under a left–right mirror, so flipping keeps the label.
            Augmentation = AugmentationPolicy.CropAndFlip,
            ClassNames = ShapesGenerator.ClassNames,
        };
        return Task.FromResult(SplitPlanner.Images(info, train, test, context, "the generated shapes set"));
    }
}

/// <summary><c>text-synthetic</c>: sentences from a small stochastic grammar, for the character LSTM.</summary>
public sealed class SyntheticTextSource : IDatasetSource
{
    public string Name => "text-synthetic";
    public DatasetKind Kind => DatasetKind.CharText;
    public string Description => "sentences from a small stochastic grammar, generated from the seed (no files needed)";
    public bool IsGenerated => true;
    public IReadOnlyList<RemoteFile> Downloads => [];

    public Task<LoadedDataset> LoadAsync(DatasetLoadContext context)
    {
        var o = context.Options;
        var vocab = new CharVocabulary(SyntheticTextGenerator.Alphabet);
        var train = vocab.Encode(SyntheticTextGenerator.Generate(o.SyntheticTextTrainCharacters, context.Seed, testSplit: false));
        var test = vocab.Encode(SyntheticTextGenerator.Generate(o.SyntheticTextTestCharacters, context.Seed, testSplit: true));
        var info = TextInfo.Create(Name, vocab, o.SequenceLength);
        return Task.FromResult(SplitPlanner.Text(info, train, test, context, "the generated text"));
    }
}

internal static class TextInfo
{
    public static DatasetInfo Create(string name, CharVocabulary vocab, int sequenceLength) => new()
    {
        Name = name,
        Kind = DatasetKind.CharText,
        NumClasses = vocab.Size,
        VocabSize = vocab.Size,
        Vocabulary = vocab.Characters,
        SequenceLength = sequenceLength,
    };
}
