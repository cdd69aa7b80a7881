using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;
using static QuantStudio.Tests.Cli.CommandRuns;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>`quantstudio eval` and `quantstudio export`, run in process.</summary>
public sealed class EvalExportCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    private static EvalCommand Eval() => new(EvaluationTests.SmallShapes);

    /// <summary>A 4-bit student for the small shapes set (batch-norm statistics set), saved with the run's seed and split.</summary>
    private (string Path, LoadedDataset Data) SaveStudent()
    {
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "shapes", ValidationSplit = 0.2 }, 21, EvaluationTests.SmallShapes);
        using var model = Create("cifar-student-3", Shapes);
        RunTrainingForward(model, Shapes);
        var path = PathOf("model.qsc");
        CompressedCheckpoint.Save(path, model, new CompressedModelDescription("cifar-student-3", 1, 1, Shapes, "shapes", data.Info.Normalization,
                new QuantizationSpec(), Methods.QuantizedDistillation) { Seed = 21, ValidationSplit = 0.2 },
            Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 256, "uniform")));
        return (path, data);
    }

    [Fact]
    public void Eval_prints_the_accuracy_the_evaluator_gives_on_the_runs_split()
    {
        var (path, data) = SaveStudent();
        using var loaded = CompressedCheckpoint.Load(path);
        var test = ModelEvaluator.Evaluate(loaded.Model, data, data.Test);
        var validation = ModelEvaluator.Evaluate(loaded.Model, data, data.Validation);
        Assert.NotEqual(test.Examples, validation.Examples);

        // Seed and validation split come from the checkpoint.
        var (code, stdout, stderr) = Run(Eval(), "--model", path, "--dataset", "shapes");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            var r = json.RootElement;
            Assert.Equal("shapes", r.GetProperty("dataset").GetString());
            Assert.Equal("test", r.GetProperty("split").GetString());
            Assert.Equal(21, r.GetProperty("seed").GetInt64());
            Assert.Equal(300, r.GetProperty("examples").GetInt64());
            Assert.Equal(test.Correct, r.GetProperty("correct").GetInt64());
            Assert.Equal(test.Accuracy, r.GetProperty("accuracy").GetDouble());
            Assert.Equal(test.Loss, r.GetProperty("loss").GetDouble());
            Assert.False(r.TryGetProperty("perplexity", out _));
        }

        var (code2, stdout2, stderr2) = Run(Eval(), "--model", path, "--split", "validation");
        Assert.True(code2 == 0, stderr2);
        using (var json = JsonDocument.Parse(stdout2))
        {
            Assert.Equal(validation.Examples, json.RootElement.GetProperty("examples").GetInt64());
            Assert.Equal(validation.Accuracy, json.RootElement.GetProperty("accuracy").GetDouble());
        }

        // Another seed generates other images: the same model scores differently on them.
        var (code3, stdout3, _) = Run(Eval(), "--model", path, "--dataset", "shapes", "--seed", "22");
        Assert.Equal(0, code3);
        using (var json = JsonDocument.Parse(stdout3))
            Assert.NotEqual(test.Loss, json.RootElement.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void Eval_reports_perplexity_for_a_character_model()
    {
        var options = new DatasetLoadOptions { SyntheticTextTrainCharacters = 3000, SyntheticTextTestCharacters = 800, SequenceLength = 32 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "text-synthetic" }, 4, options);
        var input = InputShape.Text(data.Info.NumClasses);
        using var model = Create("char-lstm", input, width: 0.25);
        var path = PathOf("lm.qsc");
        CompressedCheckpoint.Save(path, model, new CompressedModelDescription("char-lstm", 0.25, 1, input, "text-synthetic", null,
                new QuantizationSpec(), Methods.Qat) { Seed = 4, Vocabulary = data.Info.Vocabulary },
            Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new LsqEncoding(4, 0.01f)));
        using var loaded = CompressedCheckpoint.Load(path);
        var expected = ModelEvaluator.Evaluate(loaded.Model, data, data.Test);

        var (code, stdout, stderr) = Run(new EvalCommand(options), "--model", path, "--dataset", "text-synthetic");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(expected.Perplexity, json.RootElement.GetProperty("perplexity").GetDouble());
        Assert.Equal(expected.Predictions, json.RootElement.GetProperty("characters").GetInt64());
        Assert.False(json.RootElement.TryGetProperty("accuracy", out _));
    }

    [Fact]
    public void Eval_fails_with_one_clear_line_on_bad_input()
    {
        var (path, _) = SaveStudent();
        var corrupt = PathOf("corrupt.qsc");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(corrupt, bytes);
        var text = PathOf("notes.txt");
        File.WriteAllText(text, "hello");
        var emptyRoot = Directory.CreateDirectory(PathOf("no-mnist")).FullName;

        (string[] Args, int Code, string Expected)[] cases =
        [
            (["--model", PathOf("missing.qsc"), "--dataset", "shapes"], 1, "no such file"),
            (["--model", text, "--dataset", "shapes"], 1, "bad magic"),
            (["--model", corrupt, "--dataset", "shapes"], 1, "checksum mismatch"),
            (["--model", path, "--dataset", "imagenet"], 2, "unknown dataset 'imagenet'"),
            (["--model", path, "--dataset", "shapes", "--split", "train"], 2, "--split must be one of"),
            (["--model", path, "--dataset", "shapes", "--validation-split", "0.9"], 2, "--validation-split"),
            (["--dataset", "shapes"], 2, "option '--model' is required"),
            // The dataset's own error says which file is missing and where it belongs.
            (["--model", path, "--dataset", "mnist", "--root", emptyRoot], 1, emptyRoot),
            // MNIST's 1×28×28 images do not fit a model trained on 3×32×32 shapes.
            (["--model", path, "--dataset", "text-synthetic"], 1, "holds text"),
        ];
        foreach (var (args, expectedCode, expected) in cases)
        {
            var (code, stdout, stderr) = Run(Eval(), args);
            Assert.True(expectedCode == code, $"{string.Join(' ', args)}: exit {code}, stderr {stderr}");
            Assert.Equal("", stdout);
            Assert.Contains(expected, stderr);
            Assert.StartsWith("quantstudio eval: ", stderr);
            Assert.Single(stderr.TrimEnd('\n', '\r').Split('\n'));
        }
    }

    [Fact]
    public void Export_writes_the_loaded_models_state_dict_as_safetensors()
    {
        var (path, _) = SaveStudent();
        var output = PathOf("student.safetensors");
        var (code, _, stderr) = Run(new ExportCommand(), "--model", path, "--format", "safetensors", "--out", output);
        Assert.True(code == 0, stderr);

        using var loaded = CompressedCheckpoint.Load(path);
        using var state = loaded.Model.StateDictOf();
        using var exported = Safetensors.Read(output);
        Assert.Equal(state.Keys, exported.Tensors.Keys);
        foreach (var (name, value) in state)
            AssertBitwiseEqual(value, exported.Tensors[name], name);
        Assert.Contains(exported.Tensors.Values, t => t.dtype == ScalarType.Int64);
        Assert.Equal("cifar-student-3", exported.Metadata["arch"]);
        Assert.Equal(Methods.QuantizedDistillation, exported.Metadata["method"]);
    }

    [Fact]
    public void Export_says_that_activation_quantizers_are_left_out()
    {
        using var model = Create("cifar-student-3", Shapes);
        var path = PathOf("qat.qsc");
        CompressedCheckpoint.Save(path, model, new CompressedModelDescription("cifar-student-3", 1, 1, Shapes, "shapes", null,
                new QuantizationSpec { ActivationBits = 4 }, Methods.Qat)
            {
                ActivationQuantizers = [new("features.conv2", 4, 0.05f, false), new("classifier.classifier", 8, 0.01f, false)],
            },
            new Dictionary<string, TensorEncoding>());
        var output = PathOf("qat.safetensors");
        var (code, stdout, stderr) = Run(new ExportCommand(), "--model", path, "--format", "safetensors", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("weights only: its 2 activation quantizers are not representable in safetensors", stdout);
        using var exported = Safetensors.Read(output);
        using var state = model.StateDictOf();
        Assert.Equal(state.Keys, exported.Tensors.Keys);

        var (_, plainOut, _) = Run(new ExportCommand(), "--model", SaveStudent().Path, "--out", PathOf("plain.safetensors"));
        Assert.DoesNotContain("activation quantizers", plainOut);
    }

    [Fact]
    public void Export_refuses_bad_input()
    {
        var (path, _) = SaveStudent();
        var (code, _, stderr) = Run(new ExportCommand(), "--model", path, "--format", "tflite", "--out", PathOf("x"));
        Assert.Equal(2, code);
        Assert.Contains("--format must be one of safetensors, onnx", stderr);

        var (code2, _, stderr2) = Run(new ExportCommand(), "--model", PathOf("none.qsc"), "--out", PathOf("x"));
        Assert.Equal(1, code2);
        Assert.Contains("no such file", stderr2);
        Assert.False(File.Exists(PathOf("x")));
    }
}
