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
    public void The_lowbit_file_stores_the_codes_at_four_bits_and_no_more_data_than_the_checkpoint(string arch, double width)
    {
        var input = ModelZoo.IsLanguageModel(arch) ? InputShape.Text(20) : arch is "mlp" or "lenet5" or "lenet5-small" ? Mnist : Cifar;
        var path = SaveModel(dir, arch, input, width, _ => new UniformEncoding(4, 256, "uniform"));
        var info = CompressedCheckpoint.Read(path).Info;
        var quantized = info.Tensors.Where(t => t.Sizes is not null).ToList();
        var floats = OnnxExporter.Export(path, OnnxWeightFormat.Float);
        var lowbit = OnnxExporter.Export(path, OnnxWeightFormat.LowBit);
        Assert.Equal(new FileInfo(path).Length, lowbit.QscFileBytes);
        Assert.Equal(info.PackedBytes, lowbit.PackedBytes);
        Assert.True(lowbit.FileBytes < floats.FileBytes, $"{arch}: low-bit {lowbit.FileBytes} B, float {floats.FileBytes} B");

        var graph = global::Onnx.ModelProto.Parser.ParseFrom(lowbit.Model).Graph;
        // The codes are stored under the weight's state_dict name.
        var codes = graph.Initializer.Where(t => t.DataType != (int)global::Onnx.TensorProto.Types.DataType.Float
            && t.DataType != (int)global::Onnx.TensorProto.Types.DataType.Int64).ToList();
        Assert.Equal(quantized.Select(t => t.Name).Order(), codes.Select(t => t.Name).Order());
        Assert.All(codes, t => Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Uint4, t.DataType));
        // Tensor data: the packed codes and scales, the float32 tensors (batch norms folded: two floats per channel
        // instead of four), and at most half a bucket of padding codes per quantized tensor.
        long data = graph.Initializer.Sum(t => (long)t.RawData.Length);
        Assert.True(data <= info.PackedBytes + info.FullPrecisionBytes + 128L * quantized.Count,
            $"{arch}: {data} B of tensor data; checkpoint: packed {info.PackedBytes} + full precision {info.FullPrecisionBytes}");
    }
}
