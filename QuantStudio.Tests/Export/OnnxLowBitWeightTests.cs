using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using TorchSharp;
using DataType = Onnx.TensorProto.Types.DataType;
using static QuantStudio.Tests.Export.OnnxFixtures;

namespace QuantStudio.Tests.Export;

/// <summary>
/// The low-bit formulation of every stored block kind, run alone in ONNX Runtime: the dequantized weight
/// must be bit for bit the float32 tensor the checkpoint loads into the model.
/// </summary>
public sealed class OnnxLowBitWeightTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-onnx-lowbit-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string> Encodings => new()
    {
        "uniform-1-256", "uniform-2-256", "uniform-3-100", "uniform-4-256", "uniform-4-whole", "uniform-5-64", "uniform-8-256",
        "absmax-2-256", "absmax-4-100", "absmax-8-whole",
        "points-3-256", "points-4-whole",
        "lsq-2", "lsq-4", "lsq-8",
    };

    private static TensorEncoding Parse(string name)
    {
        var p = name.Split('-');
        int? bucket = p.Length > 2 && p[2] != "whole" ? int.Parse(p[2]) : null;
        var bits = int.Parse(p[1]);
        return p[0] switch
        {
            "uniform" or "absmax" => new UniformEncoding(bits, bucket, p[0]),
            // Unevenly spaced points in [0, 1], as differentiable quantization learns them.
            "points" => new PointsEncoding(Enumerable.Range(0, 1 << bits).Select(i => MathF.Pow(i / (float)((1 << bits) - 1), 1.7f)).ToArray(), bucket),
            "lsq" => new LsqEncoding(bits, 0.02f),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Onnx_runtime_dequantizes_the_codes_to_the_checkpoints_exact_float32_weights(string encoding)
    {
        // lenet5-small's fc1 weight (60 × 200 = 12,000 elements) does not divide into buckets of 256 or 100 evenly.
        var path = SaveModel(dir, "lenet5-small", Mnist, 1, _ => Parse(encoding));
        var content = CompressedCheckpoint.Read(path);
        var block = content.Blocks.Single(b => b.Name == "classifier.fc1.weight");
        Assert.IsNotType<RawBlock>(block);
        using var state = content.Dequantize();
        var expected = state["classifier.fc1.weight"].data<float>().ToArray();

        var graph = new OnnxGraphBuilder();
        var values = new Dictionary<string, float[]> { [block.Name] = expected };
        var weights = new OnnxWeightEmitter(graph, OnnxWeightFormat.LowBit, new Dictionary<string, QswBlock> { [block.Name] = block }, values);
        Assert.True(weights.IsLowBit(block.Name));
        var w = weights.Weight(block.Name, block.Shape);
        graph.Output(w, DataType.Float, block.Shape.Cast<object>().ToArray());
        using var session = new InferenceSession(graph.ToModel("test", []).ToByteArray());
        using var results = session.Run(new RunOptions(), [], [], [w]);
        var actual = results[0].GetTensorDataAsSpan<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        var firstDifference = Enumerable.Range(0, expected.Length)
            .FirstOrDefault(i => BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]) && !(expected[i] == 0 && actual[i] == 0), -1);
        Assert.True(firstDifference < 0, $"{encoding}: element {firstDifference} is {actual[Math.Max(0, firstDifference)]}, expected {expected[Math.Max(0, firstDifference)]}");
    }

    [Fact]
    public void Codes_of_up_to_four_bits_are_stored_two_to_a_byte()
    {
        Assert.Equal(new byte[] { 0x21, 0x0F }, LowBitPacking.Unsigned([1, 2, 15], 4));
        Assert.Equal(new byte[] { 0x8F, 0x07 }, LowBitPacking.Signed([-1, -8, 7], 4));
        Assert.Equal(new byte[] { 200 }, LowBitPacking.Unsigned([200], 8));
        Assert.Throws<ArgumentException>(() => LowBitPacking.Unsigned([16], 4));
    }
}
