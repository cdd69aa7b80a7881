using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Tests.Data;
using static QuantStudio.Tests.Cli.CommandRuns;

namespace QuantStudio.Tests.Training;

/// <summary>
/// `eval` rebuilds the test split of the run that wrote the .qsc — seed, validation split and subset —
/// so it reproduces the run's figure; asking for another split of a folder whose test images are held
/// out of the training pool says loudly that it scores training examples.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class EvalRunSplitTests : IDisposable
{
    private readonly DataTestFiles files = new();

    public void Dispose() => files.Dispose();

    /// <summary>A full-precision LeNet trained on 100 of a test-only MNIST folder's 300 images.</summary>
    private (string Model, RunSummary Summary) TrainOnTestOnlyFolder()
    {
        files.WriteMnistPair("t10k", 300, 28, 28, gzip: false);
        var spec = TrainingRuns.Spec(Methods.PostTraining) with
        {
            Dataset = new DatasetSpec { Name = "mnist", Root = files.Root, ValidationSplit = 0.2, Subset = 100 },
            Teacher = null,
            Student = new StudentSpec { Arch = "lenet5-small" },
            ChannelsLast = false,
        };
        var dir = TrainingRuns.NewDirectory();
        TrainingRuns.Run(spec, dir);
        return (Path.Combine(dir, ExperimentRunner.ModelFileName), RunSummary.Read(Path.Combine(dir, ExperimentRunner.SummaryFileName)));
    }

    [Fact]
    public void The_qsc_records_the_runs_subset_and_eval_scores_the_runs_own_test_split()
    {
        var (model, summary) = TrainOnTestOnlyFolder();
        Assert.Equal(100, CompressedCheckpoint.Read(model).Description.Subset);

        var (code, stdout, stderr) = Run(new EvalCommand(), "--model", model, "--root", files.Root);

        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(20, json.RootElement.GetProperty("examples").GetInt64());
        Assert.Equal(summary.StudentCheckpointAccuracy, json.RootElement.GetProperty("accuracy").GetDouble());
    }

    [Theory]
    [InlineData("--seed", "2")]
    [InlineData("--validation-split", "0.5")]
    [InlineData("--subset", "300")]
    public void Another_split_of_a_test_only_folder_warns_that_it_holds_training_examples(string option, string value)
    {
        var (model, _) = TrainOnTestOnlyFolder();

        var (code, stdout, stderr) = Run(new EvalCommand(), "--model", model, "--root", files.Root, option, value);

        Assert.True(code == 0, stderr);
        Assert.StartsWith("quantstudio eval: WARNING", stderr);
        Assert.Contains("trained on", stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.True(json.RootElement.GetProperty("includes_training_examples").GetBoolean());
    }
}
