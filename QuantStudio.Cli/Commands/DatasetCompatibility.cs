using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;

namespace QuantStudio.Cli.Commands;

/// <summary>Checks that a dataset feeds the checkpoint's model what it was trained on.</summary>
internal static class DatasetCompatibility
{
    public static void Check(CompressedModelDescription d, DatasetInfo info)
    {
        var input = d.Input;
        if (input.IsText != (info.Kind == DatasetKind.CharText))
            throw new InputException($"dataset '{info.Name}' holds {(input.IsText ? "images" : "text")}, but the model '{d.Arch}' reads {(input.IsText ? "text" : "images")}");
        if (input.IsText)
        {
            if (info.NumClasses != input.Classes)
                throw new InputException($"dataset '{info.Name}' has a vocabulary of {info.NumClasses} characters; the model was trained on {input.Classes}");
            if (d.Vocabulary is not null && info.Vocabulary is not null && d.Vocabulary != info.Vocabulary)
                throw new InputException($"dataset '{info.Name}' maps characters to different ids than the text the model was trained on");
            return;
        }
        if (info.Channels != input.Channels || info.Height != input.Height || info.Width != input.Width || info.NumClasses != input.Classes)
            throw new InputException(
                $"dataset '{info.Name}' has {info.Channels}x{info.Height}x{info.Width} images in {info.NumClasses} classes; " +
                $"the model takes {input.Channels}x{input.Height}x{input.Width} in {input.Classes}");
    }

    /// <summary>
    /// The split normalized as the model's training data was (the checkpoint records it): a dataset
    /// that computes its statistics from the data would otherwise drift with the seed or the files.
    /// </summary>
    public static DataSplit WithModelNormalization(DataSplit split, CompressedModelDescription d)
    {
        if (d.Normalization is not { } wanted || split is not ImageDataSplit images || images.Normalization.Channels != wanted.Channels)
            return split;
        var same = images.Normalization.Mean.SequenceEqual(wanted.Mean) && images.Normalization.Std.SequenceEqual(wanted.Std);
        return same ? split : new ImageDataSplit(split.Name, images.Images, wanted, AugmentationPolicy.None);
    }
}
