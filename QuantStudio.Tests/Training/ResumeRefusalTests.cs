using QuantStudio.Cli.Commands;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Tests.Cli;
using TorchSharp;

namespace QuantStudio.Tests.Training;

/// <summary>
/// `train --resume` on what it cannot continue: every case ends with one line on stderr and exit 1, and
/// leaves the run's folder as it was. A fresh run in a used folder never leaves two runs' files side by side.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class ResumeRefusalTests
{
    private static (int Code, string Out, string Err) Train(params string[] args) =>
        CommandRuns.Run(new TrainCommand(TrainingRuns.SmallShapes), args);

    private static string WriteSpec(string dir, string name, ExperimentSpec spec)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, SpecJson.Write(spec));
        return path;
    }

    private static ExperimentSpec Qat(int epochs = 1, int bits = 4) => TrainingRuns.Spec(Methods.Qat, epochs, bits) with
    {
        Dataset = new DatasetSpec { Name = "shapes", ValidationSplit = 0.2, Subset = 96 },
    };

    /// <summary>Every file of the folder with its bytes, to show a refused resume changed nothing.</summary>
    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertOneLine(string err, string command = "train")
    {
        Assert.StartsWith($"quantstudio {command}: ", err);
        Assert.Single(err.TrimEnd('\n', '\r').Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    private static string FinishedRun(out string specPath, ExperimentSpec? spec = null)
    {
        var dir = TrainingRuns.NewDirectory();
        specPath = WriteSpec(dir, "spec.json", spec ?? Qat());
        var (code, _, err) = Train("--spec", specPath, "--out", Path.Combine(dir, "run"));
        Assert.True(code == 0, err);
        return Path.Combine(dir, "run");
    }

    [Fact]
    public void A_resume_with_another_method_is_refused_in_one_line_and_the_finished_run_is_untouched()
    {
        var run = FinishedRun(out var specPath);
        var before = Snapshot(run);
        var other = WriteSpec(Path.GetDirectoryName(specPath)!, "fp.json", Qat() with { Method = Methods.FullPrecision });

        var (code, stdout, err) = Train("--spec", other, "--out", run, "--resume");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        AssertOneLine(err);
        Assert.Contains("method", err);
        Assert.Contains("qat", err);
        Assert.Contains("full_precision", err);
        Assert.Equal(before, Snapshot(run));
    }

    [Fact]
    public void A_resume_whose_spec_changes_the_result_names_the_fields_and_changes_nothing()
    {
        var run = FinishedRun(out var specPath);
        var before = Snapshot(run);
        var changed = WriteSpec(Path.GetDirectoryName(specPath)!, "changed.json", Qat(epochs: 2, bits: 2));

        var (code, _, err) = Train("--spec", changed, "--out", run, "--resume");

        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains("quantization.bits", err);
        Assert.Contains("optimizer.epochs", err);
        Assert.Contains("quantization.activation_bits", err);
        Assert.DoesNotContain("seed", err);
        Assert.Equal(before, Snapshot(run));

        // Where the data is read from and the label do not change the result: those may differ.
        var renamed = WriteSpec(Path.GetDirectoryName(specPath)!, "renamed.json", Qat() with { Name = "renamed" });
        var (code2, _, err2) = Train("--spec", renamed, "--out", run, "--resume");
        Assert.True(code2 == 0, err2);
    }

    public static TheoryData<string, string> BadCheckpoints => new()
    {
        { "no progress record", "progress" },
        { "corrupt progress record", "progress" },
        { "not a safetensors file", "checkpoint.safetensors" },
    };

    [Theory]
    [MemberData(nameof(BadCheckpoints))]
    public void A_checkpoint_that_cannot_be_read_is_one_line_and_exit_1(string damage, string expected)
    {
        var run = FinishedRun(out var specPath);
        var checkpoint = Path.Combine(run, TrainingCheckpoint.FileName);
        using (var t = torch.zeros(3))
        {
            if (damage == "no progress record")
                Safetensors.Save(checkpoint, [new("x", t)], new Dictionary<string, string> { ["format"] = "pt" });
            else if (damage == "corrupt progress record")
                Safetensors.Save(checkpoint, [new("x", t)], new Dictionary<string, string> { ["progress"] = "{\"Stage\": \"student\", " });
            else
                File.WriteAllText(checkpoint, "this is not a checkpoint");
        }
        var before = Snapshot(run);

        var (code, _, err) = Train("--spec", specPath, "--out", run, "--resume");

        Assert.Equal(1, code);
        AssertOneLine(err);
        Assert.Contains(expected, err);
        Assert.Contains(TrainingCheckpoint.FileName, err);
        Assert.Equal(before, Snapshot(run));
    }

    [Fact]
    public void A_failed_fresh_run_in_a_used_folder_leaves_no_file_of_the_earlier_run()
    {
        var run = FinishedRun(out var specPath);
        File.WriteAllText(Path.Combine(run, ExperimentRunner.TeacherFileName), "the earlier run's teacher");
        Assert.True(File.Exists(Path.Combine(run, ExperimentRunner.ModelFileName)));
        var missing = Path.Combine(run, "..", "no-mnist-here");
        var broken = WriteSpec(Path.GetDirectoryName(specPath)!, "mnist.json", Qat() with
        {
            Dataset = new DatasetSpec { Name = "mnist", Root = missing },
            Student = new StudentSpec { Arch = "lenet5" },
        });

        var (code, _, err) = Train("--spec", broken, "--out", run);

        Assert.Equal(1, code);
        AssertOneLine(err);
        // Only the new run's record of its failure is left.
        Assert.Equal([ExperimentRunner.MetricsFileName], Directory.GetFiles(run).Select(f => Path.GetFileName(f)).ToArray());
        var events = JsonlEventSink.Read(Path.Combine(run, ExperimentRunner.MetricsFileName));
        Assert.IsType<RunFailed>(Assert.Single(events));
    }
}
