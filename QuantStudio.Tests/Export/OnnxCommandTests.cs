using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using static QuantStudio.Tests.Cli.CommandRuns;
using static QuantStudio.Tests.Export.OnnxFixtures;

namespace QuantStudio.Tests.Export;

/// <summary>`quantstudio export --format onnx` and `quantstudio eval --model M.onnx`, run in process.</summary>
public sealed class OnnxCommandTests : IDisposable
{
    private static readonly DatasetLoadOptions SmallShapes = new() { ShapesTrainCount = 600, ShapesTestCount = 300 };
    private readonly string dir = Directory.CreateTempSubdirectory("qs-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    [Theory]
    [InlineData("float")]
    [InlineData("lowbit")]
    public void Exported_model_scores_in_onnx_runtime_what_the_checkpoint_scores(string weights)
    {
        var qsc = SaveModel(dir, "cifar-student-3", Cifar, 1, _ => new UniformEncoding(4, 256, "uniform"));
        var onnx = PathOf($"student-{weights}.onnx");
        var (code, stdout, stderr) = Run(new ExportCommand(), "--model", qsc, "--format", "onnx", "--weights", weights, "--out", onnx);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(onnx));
        Assert.Contains($"{new FileInfo(onnx).Length:N0} bytes; model.qsc {new FileInfo(qsc).Length:N0} bytes", stdout);

        var (evalCode, json, evalErr) = Run(new EvalCommand(SmallShapes), "--model", onnx);
        Assert.True(evalCode == 0, evalErr);
        var (qscCode, qscJson, qscErr) = Run(new EvalCommand(SmallShapes), "--model", qsc);
        Assert.True(qscCode == 0, qscErr);
        using var fromOnnx = JsonDocument.Parse(json);
        using var fromQsc = JsonDocument.Parse(qscJson);
        Assert.Equal("onnxruntime", fromOnnx.RootElement.GetProperty("runtime").GetString());
        // Dataset, seed and split come from the ONNX model's metadata, as they come from the checkpoint's description.
        foreach (var field in new[] { "dataset", "split", "seed", "examples" })
            Assert.Equal(fromQsc.RootElement.GetProperty(field).ToString(), fromOnnx.RootElement.GetProperty(field).ToString());
        Assert.Equal(fromQsc.RootElement.GetProperty("correct").GetInt64(), fromOnnx.RootElement.GetProperty("correct").GetInt64());
        Assert.Equal(fromQsc.RootElement.GetProperty("loss").GetDouble(), fromOnnx.RootElement.GetProperty("loss").GetDouble(), 1e-5);
    }

    [Fact]
    public void A_character_models_onnx_perplexity_is_the_checkpoints()
    {
        var options = new DatasetLoadOptions { SyntheticTextTrainCharacters = 3000, SyntheticTextTestCharacters = 800, SequenceLength = 32 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "text-synthetic" }, 4, options);
        var input = QuantStudio.Core.Models.InputShape.Text(data.Info.NumClasses);
        TorchSharp.torch.manual_seed(3);
        using var model = QuantStudio.Core.Models.ModelZoo.Create("char-lstm", input, 0.25);
        var qsc = PathOf("lm.qsc");
        CompressedCheckpoint.Save(qsc, model, new CompressedModelDescription("char-lstm", 0.25, 1, input, "text-synthetic", null,
                new QuantizationSpec(), Methods.Qat) { Seed = 4, Vocabulary = data.Info.Vocabulary },
            QuantizableWeights(model).ToDictionary(n => n, _ => (TensorEncoding)new LsqEncoding(4, 0.02f)));
        using var loaded = CompressedCheckpoint.Load(qsc);
        var expected = ModelEvaluator.Evaluate(loaded.Model, data, data.Test);

        var onnx = PathOf("lm.onnx");
        Assert.Equal(0, Run(new ExportCommand(), "--model", qsc, "--format", "onnx", "--weights", "lowbit", "--out", onnx).Code);
        var (code, stdout, stderr) = Run(new EvalCommand(options), "--model", onnx);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("text-synthetic", json.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(expected.Predictions, json.RootElement.GetProperty("characters").GetInt64());
        Assert.Equal(expected.Perplexity!.Value, json.RootElement.GetProperty("perplexity").GetDouble(), 1e-4);
    }

    [Fact]
    public void Exporting_a_corrupt_checkpoint_fails_with_one_clear_line()
    {
        var qsc = SaveModel(dir, "lenet5-small", Mnist, 1, _ => new UniformEncoding(4, 256, "uniform"));
        var bytes = File.ReadAllBytes(qsc);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(qsc, bytes);
        var onnx = PathOf("corrupt.onnx");
        var (code, stdout, stderr) = Run(new ExportCommand(), "--model", qsc, "--format", "onnx", "--out", onnx);
        Assert.Equal(CommandRunner.ExitInputError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("quantstudio export: --model: ", stderr);
        Assert.Contains("checksum mismatch", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(onnx));
    }

    [Fact]
    public void Evaluating_an_onnx_model_on_images_of_another_shape_fails_with_one_clear_line()
    {
        // An MNIST model (1×28×28) against the shapes set (3×32×32).
        var qsc = SaveModel(dir, "lenet5-small", Mnist, 1, _ => new UniformEncoding(4, 256, "uniform"));
        var onnx = PathOf("mnist.onnx");
        Assert.Equal(0, Run(new ExportCommand(), "--model", qsc, "--format", "onnx", "--out", onnx).Code);
        var (code, stdout, stderr) = Run(new EvalCommand(SmallShapes), "--model", onnx, "--dataset", "shapes");
        Assert.Equal(CommandRunner.ExitInputError, code);
        Assert.Equal("", stdout);
        Assert.Equal("quantstudio eval: dataset 'shapes' has 3x32x32 images: input shape [1, 3, 32, 32] does not fit the model's input 'input' " +
            "[batch, 1, 28, 28]: dimension 1 is 3, the model takes 1", stderr.TrimEnd());
    }

    [Fact]
    public void Evaluating_a_file_that_is_not_onnx_fails_with_one_clear_line()
    {
        var onnx = PathOf("not-a-model.onnx");
        File.WriteAllText(onnx, "this is not a protobuf model");
        var (code, _, stderr) = Run(new EvalCommand(SmallShapes), "--model", onnx, "--dataset", "shapes");
        Assert.Equal(CommandRunner.ExitInputError, code);
        Assert.StartsWith($"quantstudio eval: --model: '{onnx}' is not a usable ONNX model: ONNX Runtime cannot load", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Weights_option_is_refused_for_safetensors_and_unknown_values_are_named()
    {
        var qsc = SaveModel(dir, "lenet5-small", Mnist, 1, _ => new UniformEncoding(4, 256, "uniform"));
        var (code, _, stderr) = Run(new ExportCommand(), "--model", qsc, "--format", "onnx", "--weights", "int3", "--out", PathOf("x.onnx"));
        Assert.Equal(CommandRunner.ExitUsageError, code);
        Assert.Contains("--weights", stderr);
        var (code2, _, stderr2) = Run(new ExportCommand(), "--model", qsc, "--format", "safetensors", "--weights", "lowbit", "--out", PathOf("x.safetensors"));
        Assert.Equal(CommandRunner.ExitUsageError, code2);
        Assert.Contains("--weights applies to --format onnx only", stderr2);
    }
}
