using QuantStudio.Core.Engine;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

public class TextDatasetTests
{
    [Fact]
    public void Token_batches_are_windows_with_next_character_targets()
    {
        var vocab = CharVocabulary.FromText("abcdefghij");
        var split = new TokenDataSplit("train", vocab.Encode("abcdefghij"), sequenceLength: 3, vocabSize: vocab.Size);
        Assert.Equal(3, split.Count);
        using var batch = split.CreateBatch([2, 0], augment: false, seed: 1, epoch: 0, batchIndex: 0);
        Assert.Equal([2L, 3], batch.Input.shape);
        Assert.Equal("ghiabc", vocab.Decode(batch.Input.data<long>().ToArray()));
        Assert.Equal("hijbcd", vocab.Decode(batch.Target.data<long>().ToArray()));
    }

    [Fact]
    public void Synthetic_text_is_deterministic_readable_and_inside_its_alphabet()
    {
        var a = SyntheticTextGenerator.Generate(5000, 1, false);
        Assert.Equal(a, SyntheticTextGenerator.Generate(5000, 1, false));
        Assert.NotEqual(a, SyntheticTextGenerator.Generate(5000, 2, false));
        Assert.Equal(5000, a.Length);
        Assert.All(a, c => Assert.Contains(c, SyntheticTextGenerator.Alphabet));
        Assert.Contains(". ", a);
        Assert.Contains('\n', a);
        Assert.Matches("^[A-Z]", a);
        Assert.DoesNotContain("  ", a);
        Assert.DoesNotContain("a apple", a);
    }

    [Fact]
    public void The_registry_loads_synthetic_text_with_a_held_out_tail()
    {
        var options = new DatasetLoadOptions { SyntheticTextTrainCharacters = 10_000, SyntheticTextTestCharacters = 2_000, SequenceLength = 50 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "text-synthetic", ValidationSplit = 0.1 }, 4, options);
        Assert.Equal(DatasetKind.CharText, data.Info.Kind);
        Assert.Equal(SyntheticTextGenerator.Alphabet.Length, data.Info.VocabSize);
        Assert.Equal(data.Info.VocabSize, data.Info.NumClasses);
        Assert.Equal((9000 - 1) / 50, data.Train.Count);
        Assert.Equal((1000 - 1) / 50, data.Validation.Count);
        Assert.Equal((2000 - 1) / 50, data.Test.Count);
        Assert.Equal([50L], data.Info.ExampleShape);
    }

    [Fact]
    public void A_plain_text_file_is_split_into_head_for_training_and_tail_for_testing()
    {
        using var files = new DataTestFiles();
        var text = string.Concat(Enumerable.Repeat("To be, or not to be: that is the question.\n", 50));
        File.WriteAllText(files.PathOf("input.txt"), text);
        var options = new DatasetLoadOptions { SequenceLength = 20 };
        var fromFolder = DatasetRegistry.Load(new DatasetSpec { Name = "text", Root = files.Root, ValidationSplit = 0.2, Subset = 10 }, 1, options);
        Assert.Equal(string.Concat(text.Distinct().Order()), fromFolder.Info.Vocabulary);
        Assert.Equal(10, fromFolder.Train.Count);
        Assert.Same(fromFolder.Test, fromFolder.Validation);

        var renamed = files.PathOf("plays.txt");
        File.Move(files.PathOf("input.txt"), renamed);
        var fromFile = DatasetRegistry.Load(new DatasetSpec { Name = "text", Root = renamed, ValidationSplit = 0.2 }, 1, options);
        Assert.Equal((text.Length - (int)Math.Round(text.Length * 0.8) - 1) / 20, fromFile.Test.Count);
    }

    [Fact]
    public void A_subset_of_a_text_shrinks_its_held_out_part_in_proportion()
    {
        using var files = new DataTestFiles();
        var text = SyntheticTextGenerator.Generate(20_000, 3, false);
        File.WriteAllText(files.PathOf("input.txt"), text);
        var options = new DatasetLoadOptions { SequenceLength = 20 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "text", Root = files.Root, ValidationSplit = 0.2, Subset = 40 }, 1, options);
        var train = (TokenDataSplit)data.Train;
        var test = (TokenDataSplit)data.Test;
        Assert.Equal(40, train.Count);
        // 40 sequences of 20 are 801 characters for training: a fifth of the text used is held out, about 200 characters, not 4,000.
        Assert.InRange(test.Tokens.Length, 195, 205);
        // The training text is the head; the held-out text comes right after it, not from the far end of the file.
        string Decode(int[] tokens) => new([.. tokens.Select(t => data.Info.Vocabulary![t])]);
        Assert.Equal(text[..train.Tokens.Length], Decode(train.Tokens));
        var at = text.IndexOf(Decode(test.Tokens), StringComparison.Ordinal);
        Assert.InRange(at, train.Tokens.Length, train.Tokens.Length + 2);
    }

    [Fact]
    public void A_missing_text_file_names_the_path_and_the_download()
    {
        using var files = new DataTestFiles();
        var ex = Assert.Throws<DatasetFileException>(() => DatasetRegistry.Load(new DatasetSpec { Name = "text", Root = files.Root }, 1));
        Assert.Contains("missing input.txt", ex.Message);
        Assert.Contains(Path.GetFullPath(files.Root), ex.Message);
        Assert.Contains("tinyshakespeare", ex.Message);
    }
}
