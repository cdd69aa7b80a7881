using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using static QuantStudio.Tests.Export.OnnxFixtures;

namespace QuantStudio.Tests.Export;

/// <summary>
/// Every architecture of the zoo, exported both ways and run in ONNX Runtime, against our own forward
/// pass of the loaded checkpoint on the same inputs.
/// </summary>
public sealed class OnnxArchitectureTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-onnx-arch-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string, double> Architectures => new()
    {
        { "mlp", 0.5 },
        { "lenet5", 1 },
        { "lenet5-small", 1 },
        { "cifar-teacher", 0.25 },
        { "cifar-student-1", 1 },
        { "cifar-student-2", 1 },
        { "cifar-student-3", 1 },
        { "resnet20", 0.5 },
        { "resnet32", 0.5 },
        { "resnet56", 0.25 },
        { "wrn", 0.5 },
        { "mobilenetv2", 0.25 },
        { "char-lstm", 0.5 },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Onnx_runtime_computes_our_logits_with_float_and_lowbit_weights(string arch, double width)
    {
        var input = ModelZoo.IsLanguageModel(arch) ? InputShape.Text(20) : arch is "mlp" or "lenet5" or "lenet5-small" ? Mnist : Cifar;
        var path = SaveModel(dir, arch, input, width, _ => new UniformEncoding(4, 256, "uniform"));
        var inputs = Inputs(input, batch: 8);
        using var loaded = CompressedCheckpoint.Load(path);
        var reference = Reference(loaded, inputs);
        var classes = input.Classes;

        foreach (var (format, tolerance) in new[] { (OnnxWeightFormat.Float, 1e-4), (OnnxWeightFormat.LowBit, 1e-3) })
        {
            var export = OnnxExporter.Export(path, format);
            var onnx = RunOnnx(export.Model, inputs);
            Assert.Equal(reference.Length, onnx.Length);
            var difference = MaxAbsDifference(reference, onnx);
            Assert.True(difference <= tolerance, $"{arch} {format}: max |difference| {difference:E2} > {tolerance:E0}");
            Assert.Equal(ArgMax(reference, classes), ArgMax(onnx, classes));
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_lowbit_file_is_smaller_than_the_float_file_and_close_to_the_checkpoint(string arch, double width)
    {
        var input = ModelZoo.IsLanguageModel(arch) ? InputShape.Text(20) : arch is "mlp" or "lenet5" or "lenet5-small" ? Mnist : Cifar;
        var path = SaveModel(dir, arch, input, width, _ => new UniformEncoding(4, 256, "uniform"));
        var floats = OnnxExporter.Export(path, OnnxWeightFormat.Float);
        var lowbit = OnnxExporter.Export(path, OnnxWeightFormat.LowBit);
        Assert.Equal(new FileInfo(path).Length, lowbit.QscFileBytes);
        Assert.True(lowbit.FileBytes < floats.FileBytes, $"{arch}: low-bit {lowbit.FileBytes} B, float {floats.FileBytes} B");
        // The codes and scales cost what they cost in the checkpoint; graph nodes, names, padding and folded
        // batch-norm scales add a little.
        Assert.Fail($"DIAG {arch} lowbit {lowbit.FileBytes} float {floats.FileBytes} qsc {lowbit.QscFileBytes} packed {lowbit.PackedBytes} tensors {CompressedCheckpoint.Read(path).Blocks.Count(b => b is not QuantStudio.Core.Compression.RawBlock)}");
        Assert.True(lowbit.FileBytes <= 1.6 * lowbit.QscFileBytes, $"{arch}: low-bit ONNX {lowbit.FileBytes} B, checkpoint {lowbit.QscFileBytes} B");
    }
}
