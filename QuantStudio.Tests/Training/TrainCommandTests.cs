using QuantStudio.Cli.Commands;
using QuantStudio.Tests.Cli;

namespace QuantStudio.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CommandRuns.Run(new TrainCommand(), args);

    [Fact]
    public void A_bad_spec_lists_every_problem_by_field()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = Path.Combine(dir, "s.json");
        File.WriteAllText(spec, """{ "method": "quantized_distillation", "quantization": { "bits": 9 }, "optimizer": { "lr": -1 } }""");
        var (code, _, err) = Run("--spec", spec, "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, code);
        Assert.Contains("quantization.bits: 9 is out of range", err);
        Assert.Contains("optimizer.lr", err);
        Assert.Contains("teacher", err);
    }

    [Fact]
    public void A_missing_dataset_says_which_file_and_where()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = Path.Combine(dir, "s.json");
        var root = Path.Combine(dir, "no-mnist-here");
        File.WriteAllText(spec, $$"""{ "method": "full_precision", "student": { "arch": "lenet5" }, "dataset": { "name": "mnist", "root": "{{root}}" } }""");
        var (code, _, err) = Run("--spec", spec, "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, code);
        Assert.Contains(root, err);
        Assert.Contains("download", err);
    }

    [Fact]
    public void Missing_options_are_usage_errors()
    {
        var (code, _, err) = Run("--spec", "x.json");
        Assert.Equal(2, code);
        Assert.Contains("--out", err);
    }
}
