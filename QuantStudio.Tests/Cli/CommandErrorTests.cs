using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Experiments;
using QuantStudio.Tests.Checkpoints;
using QuantStudio.Tests.Training;
using TorchSharp;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;
using static QuantStudio.Tests.Cli.CommandRuns;

namespace QuantStudio.Tests.Cli;

/// <summary>
/// Each command fed what a user gets wrong: one line on stderr naming the problem in the user's terms
/// (file, spec field or option), never a stack trace or a .NET type; `--help` is not an error.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class CommandErrorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-cli-errors-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    private static void AssertOneCleanLine(string err, string command)
    {
        Assert.StartsWith($"quantstudio {command}: ", err);
        Assert.Single(err.TrimEnd('\n', '\r').Split('\n'));
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("(Parameter '", err);
        Assert.DoesNotContain("System.", err);
    }

    public static TheoryData<string> CommandNames => new() { "train", "eval", "export", "quantize", "unpack", "info" };

    private static ICommand Command(string name) => name switch
    {
        "train" => new TrainCommand(),
        "eval" => new EvalCommand(),
        "export" => new ExportCommand(),
        "quantize" => new QuantizeCommand(),
        "unpack" => new UnpackCommand(),
        _ => new InfoCommand(),
    };

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Help_prints_the_commands_usage_and_exits_0(string name)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (code, stdout, stderr) = Run(Command(name), flag);
            Assert.True(code == 0, $"{name} {flag}: exit {code}, {stderr}");
            Assert.Equal("", stderr);
            Assert.Contains($"quantstudio {name}", stdout);
        }
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_and_exit_1_and_argument_names_do_not_leak()
    {
        var err = new StringWriter();
        Assert.Equal(1, CommandRunner.Guard("train", err, () => throw new InvalidOperationException("the loss became NaN")));
        AssertOneCleanLine(err.ToString(), "train");
        Assert.Contains("the loss became NaN", err.ToString());

        err = new StringWriter();
        Assert.Equal(1, CommandRunner.Guard("eval", err, () => throw new ArgumentException("unknown model 'x'", "arch")));
        AssertOneCleanLine(err.ToString(), "eval");
        Assert.Equal("quantstudio eval: unknown model 'x'", err.ToString().TrimEnd());
    }

    private string WriteSpec(ExperimentSpec spec)
    {
        var path = PathOf("spec.json");
        File.WriteAllText(path, SpecJson.Write(spec));
        return path;
    }

    private static ExperimentSpec QdWithTeacher(string checkpoint) => TrainingRuns.Spec(Methods.QuantizedDistillation) with
    {
        Teacher = new TeacherSpec { Arch = "cifar-student-1", Width = 0.5, Checkpoint = checkpoint },
        Dataset = new DatasetSpec { Name = "shapes", ValidationSplit = 0.2, Subset = 64 },
    };

    [Fact]
    public void A_truncated_teacher_checkpoint_is_reported_once_naming_the_file_and_the_spec_field()
    {
        var teacher = PathOf("teacher.safetensors");
        using (var model = Create("cifar-student-1", Shapes, width: 0.5))
        using (var state = model.StateDictOf())
        {
            var bytes = Safetensors.Serialize(state);
            File.WriteAllBytes(teacher, bytes[..(bytes.Length / 2)]);
        }
        var (code, _, err) = Run(new TrainCommand(TrainingRuns.SmallShapes), "--spec", WriteSpec(QdWithTeacher(teacher)), "--out", PathOf("run"));
        Assert.Equal(1, code);
        var lines = err.TrimEnd().Split('\n');
        var error = Assert.Single(lines, l => l.Contains("teacher.checkpoint"));
        Assert.StartsWith("quantstudio train: ", error);
        Assert.Contains(teacher, error);
        Assert.DoesNotContain("   at ", err);
        // The message comes once, not once from the progress line and again from the error handler.
        Assert.Single(lines, l => l.Contains("data_offsets"));
    }

    [Fact]
    public void A_teacher_checkpoint_of_another_architecture_is_summarized_not_listed_key_by_key()
    {
        var teacher = PathOf("lenet.safetensors");
        using (var model = Create("resnet20", Shapes))
        using (var state = model.StateDictOf())
            Safetensors.Save(teacher, state);
        var (code, _, err) = Run(new TrainCommand(TrainingRuns.SmallShapes), "--spec", WriteSpec(QdWithTeacher(teacher)), "--out", PathOf("run"));
        Assert.Equal(1, code);
        var error = err.TrimEnd().Split('\n')[^1];
        AssertOneCleanLine(error, "train");
        Assert.Contains("teacher.checkpoint", error);
        Assert.Contains("missing", error);
        Assert.True(error.Length < 600, $"{error.Length} characters: {error}");
    }

    /// <summary>A valid .qsc whose description is rewritten by <paramref name="edit"/>, with length and checksum fixed up.</summary>
    private string CraftQsc(string name, Action<JsonObject> edit)
    {
        var source = PathOf("source.qsc");
        using (var model = Create("lenet5-small", Mnist))
            CompressedCheckpoint.Save(source, model, Describe("lenet5-small", Mnist),
                Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 256, "uniform")));
        var bytes = File.ReadAllBytes(source);
        var jsonLength = (int)BitConverter.ToUInt32(bytes, 16);
        var json = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 20, jsonLength))!.AsObject();
        edit(json);
        var newJson = Encoding.UTF8.GetBytes(json.ToJsonString());
        var rest = bytes[(20 + jsonLength)..^32];
        var file = new byte[20 + newJson.Length + rest.Length + 32];
        bytes.AsSpan(0, 8).CopyTo(file);
        BitConverter.GetBytes((ulong)file.Length).CopyTo(file, 8);
        BitConverter.GetBytes((uint)newJson.Length).CopyTo(file, 16);
        newJson.CopyTo(file, 20);
        rest.CopyTo(file, 20 + newJson.Length);
        SHA256.HashData(file.AsSpan(0, file.Length - 32)).CopyTo(file, file.Length - 32);
        var path = PathOf(name);
        File.WriteAllBytes(path, file);
        return path;
    }

    [Fact]
    public void A_crafted_qsc_declaring_a_huge_width_is_refused_before_the_model_is_built()
    {
        var huge = CraftQsc("huge.qsc", j => j["width"] = 1000);
        foreach (var (command, args) in new (ICommand, string[])[]
                 { (new EvalCommand(), ["--model", huge]), (new ExportCommand(), ["--model", huge, "--out", PathOf("x.safetensors")]) })
        {
            var (code, _, err) = Run(command, args);
            Assert.Equal(1, code);
            AssertOneCleanLine(err, command.Name);
            Assert.Contains("width", err);
            Assert.Contains("1000", err);
        }
    }

    [Fact]
    public void A_crafted_qsc_naming_a_huge_wide_resnet_is_refused_before_the_model_is_built()
    {
        foreach (var arch in new[] { "wrn-1000-1000", "wrn-40-17" })
        {
            var huge = CraftQsc($"{arch}.qsc", j => j["arch"] = arch);
            var (code, _, err) = Run(new EvalCommand(), "--model", huge);
            Assert.Equal(1, code);
            AssertOneCleanLine(err, "eval");
            Assert.Contains($"unknown architecture '{arch}'", err);
        }
        Assert.True(Core.Models.ModelZoo.IsKnown("wrn-40-16"));
        Assert.True(Core.Models.ModelZoo.IsKnown("wrn-16-2"));
        Assert.False(Core.Models.ModelZoo.IsKnown("wrn-46-2"));
    }

    [Fact]
    public void A_qsc_whose_description_has_a_wrong_type_names_the_field_in_plain_words()
    {
        var bad = CraftQsc("bad-type.qsc", j => j["input"]!["channels"] = "one");
        var (code, _, err) = Run(new EvalCommand(), "--model", bad);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "eval");
        Assert.Contains("input.channels", err);
    }

    [Fact]
    public void Eval_without_the_datasets_files_points_at_its_own_root_option()
    {
        var model = CraftQsc("mnist.qsc", _ => { });
        var empty = Directory.CreateDirectory(PathOf("empty")).FullName;
        var (code, _, err) = Run(new EvalCommand(), "--model", model, "--root", empty);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "eval");
        Assert.Contains("--root", err);
        Assert.Contains(empty, err);
        Assert.DoesNotContain("dataset.root", err);
        Assert.DoesNotContain("\"download\"", err);
    }
}
