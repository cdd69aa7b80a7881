using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;
using static QuantStudio.Tests.Cli.CommandRuns;

namespace QuantStudio.Tests.Training;

/// <summary>
/// `quantstudio train` and then `quantstudio eval` on the run's model.qsc, as a user runs them: eval
/// prints the accuracy summary.json reports, and the file is as large as the reported sizes say.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainEvalRoundTripTests(ITestOutputHelper output)
{
    private const int Bits = 4;
    private const int BucketSize = 256;

    [Fact]
    public void Eval_of_model_qsc_matches_the_summary_and_the_file_is_packed_plus_fp32_plus_header()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = TrainingRuns.Spec(Methods.QuantizedDistillation, bits: Bits);
        Assert.Equal(BucketSize, spec.Quantization.BucketSize);
        var specPath = Path.Combine(dir, "spec.json");
        File.WriteAllText(specPath, SpecJson.Write(spec));
        var runDir = Path.Combine(dir, "run");

        var train = Run(new TrainCommand(TrainingRuns.SmallShapes), "--spec", specPath, "--out", runDir, "--data", Path.Combine(dir, "data"));
        Assert.True(train.Code == 0, train.Err);

        using var summaryJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")));
        var summary = summaryJson.RootElement;
        Assert.Equal(Bits, summary.GetProperty("bits").GetInt32());
        Assert.Equal(BucketSize, summary.GetProperty("bucket_size").GetInt32());
        var modelPath = Path.Combine(runDir, "model.qsc");

        EvalGivesTheRunsFigures(modelPath, runDir, summary);
        FileIsPackedPlusFp32PlusHeader(modelPath, summary);
        PackedBytesAreThoseOfTheModelsTensors(spec, summary);
    }

    private void EvalGivesTheRunsFigures(string modelPath, string runDir, JsonElement summary)
    {
        var studentAccuracy = summary.GetProperty("student_accuracy").GetDouble();
        var eval = Run(new EvalCommand(TrainingRuns.SmallShapes), "--model", modelPath, "--dataset", "shapes");
        Assert.True(eval.Code == 0, eval.Err);
        using var evalJson = JsonDocument.Parse(eval.Out);
        var printed = evalJson.RootElement;
        var examples = printed.GetProperty("examples").GetInt64();
        var correct = printed.GetProperty("correct").GetInt64();
        var accuracy = printed.GetProperty("accuracy").GetDouble();
        output.WriteLine($"eval: {correct}/{examples} = {accuracy}; summary: {studentAccuracy}");
        Assert.Equal(TrainingRuns.SmallShapes.ShapesTestCount, examples);
        Assert.Equal((double)correct / examples, accuracy);
        // The accuracy is printed to the last bit, so equal fractions of the same test set are equal counts.
        Assert.Equal(studentAccuracy, accuracy);
        Assert.Equal(correct, (long)Math.Round(studentAccuracy * examples));

        // So short a run stays near the 10% of a guess, where equal counts could be luck: the loss pins the
        // network down. eval on the validation split scores what the run's last epoch wrote to metrics.jsonl.
        var lastEpoch = JsonlEventSink.Read(Path.Combine(runDir, "metrics.jsonl")).OfType<EpochMetrics>().Last();
        var validation = Run(new EvalCommand(TrainingRuns.SmallShapes), "--model", modelPath, "--split", "validation");
        Assert.True(validation.Code == 0, validation.Err);
        using var validationJson = JsonDocument.Parse(validation.Out);
        var validationLoss = validationJson.RootElement.GetProperty("loss").GetDouble();
        output.WriteLine($"validation loss: eval {validationLoss}, last epoch {lastEpoch.ValLoss}");
        Assert.True(Math.Abs(validationLoss - lastEpoch.ValLoss) <= 1e-5 * lastEpoch.ValLoss, $"eval {validationLoss} vs run {lastEpoch.ValLoss}");
    }

    /// <summary>The file against the figures the tools report: quantized tensors packed + fp32 tensors + header.</summary>
    private void FileIsPackedPlusFp32PlusHeader(string modelPath, JsonElement summary)
    {
        var fileBytes = new FileInfo(modelPath).Length;
        Assert.Equal(fileBytes, summary.GetProperty("qsc_bytes").GetInt64());
        var packedBytes = summary.GetProperty("packed_bytes").GetInt64();
        var info = CompressedCheckpoint.Read(modelPath).Info;
        long StoredAs(string kind) => info.Tensors.Where(t => t.Kind == kind).Sum(t => t.DataBytes);
        var fp32Tensors = StoredAs("fp32");
        var integerBuffers = StoredAs("raw");
        // summary.json's packed_bytes already counts the unquantized fp32 tensors; it leaves out the integer buffers.
        Assert.Equal(info.PackedBytes + fp32Tensors, packedBytes);
        var reported = packedBytes + integerBuffers + info.HeaderBytes;
        output.WriteLine($"file {fileBytes} B; packed_bytes {packedBytes} (quantized {info.PackedBytes} + fp32 {fp32Tensors}) " +
                         $"+ integer buffers {integerBuffers} + header {info.HeaderBytes} = {reported} B");
        Assert.True(Math.Abs(fileBytes - reported) <= 0.02 * reported, $"file {fileBytes} B vs packed + fp32 + header {reported} B");
    }

    /// <summary>
    /// packed_bytes and fp32_bytes from first principles, over the student's state_dict: quantized distillation
    /// quantizes every conv and linear weight but the first and last layer's, each to ⌈n·b/8⌉ bytes of codes
    /// plus α and β (2 × fp32) per bucket; every other floating-point tensor is 4·n bytes.
    /// </summary>
    private static void PackedBytesAreThoseOfTheModelsTensors(ExperimentSpec spec, JsonElement summary)
    {
        using var model = Create(spec.Student.Arch, Shapes, spec.Student.Width);
        var quantized = Weights(model).Skip(1).SkipLast(1).ToHashSet();
        Assert.NotEmpty(quantized);
        long packed = 0, fp32 = 0;
        using var state = model.StateDictOf();
        foreach (var (name, tensor) in state)
        {
            if (!tensor.dtype.IsFloatingPoint())
                continue;
            var n = tensor.numel();
            fp32 += 4 * n;
            packed += quantized.Contains(name) ? (n * Bits + 7) / 8 + 2 * 4 * ((n + BucketSize - 1) / BucketSize) : 4 * n;
        }
        Assert.Equal(packed, summary.GetProperty("packed_bytes").GetInt64());
        Assert.Equal(fp32, summary.GetProperty("fp32_bytes").GetInt64());
        Assert.True(packed < fp32 / 4, $"{Bits} bits: packed {packed} B vs {fp32} B in fp32");
    }
}
