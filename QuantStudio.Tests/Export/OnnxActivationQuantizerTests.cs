using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using static QuantStudio.Tests.Export.OnnxFixtures;

namespace QuantStudio.Tests.Export;

/// <summary>A QKD student with 4-bit weights and 4-bit activations: ONNX Runtime computes what the .qsc evaluates.</summary>
public sealed class OnnxActivationQuantizerTests : IDisposable
{
    private static readonly DatasetLoadOptions SmallShapes = new() { ShapesTrainCount = 600, ShapesTestCount = 300 };
    private readonly string dir = Directory.CreateTempSubdirectory("qs-onnx-qkd-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>cifar-student-3 as QKD saves it: LSQ 4-bit weights, a 4-bit unsigned quantizer on the input of every conv and linear but the first.</summary>
    private string SaveQkdStudent(float step)
    {
        var quantizers = ConvAndLinearLayers().Skip(1).Select(l => new ActivationQuantizer(l, 4, step, Signed: false)).ToList();
        return SaveModel(dir, "cifar-student-3", Cifar, 1, _ => new LsqEncoding(4, 0.01f), quantizers, Methods.Qkd);
    }

    private static List<string> ConvAndLinearLayers()
    {
        using var model = ModelZoo.Create("cifar-student-3", Cifar);
        return model.named_modules().Where(m => m.module is QuantStudio.Core.Models.Layers.TransformableConv2d or QuantStudio.Core.Models.Layers.TransformableLinear)
            .Select(m => m.name).ToList();
    }

    [Theory]
    [InlineData(OnnxWeightFormat.Float)]
    [InlineData(OnnxWeightFormat.LowBit)]
    public void The_graph_quantizes_activations_as_the_loaded_checkpoint_does(OnnxWeightFormat format)
    {
        var path = SaveQkdStudent(0.1f);
        var inputs = Inputs(Cifar, batch: 32);
        using var loaded = CompressedCheckpoint.Load(path);
        Assert.Equal(5, loaded.ActivationQuantizers.Count);
        var reference = Reference(loaded, inputs);
        var export = OnnxExporter.Export(path, format);
        var onnx = RunOnnx(export.Model, inputs);
        // Two implementations sum a convolution in different orders, so an activation that lands within a rounding
        // error of a level boundary can take the neighbouring level (one step apart) in one of them. Nearly every
        // example must agree to float precision; the few that do not are such flips, not a different network.
        var rows = Enumerable.Range(0, 32).Select(r => MaxAbsDifference(reference[(r * 10)..(r * 10 + 10)], onnx[(r * 10)..(r * 10 + 10)])).ToArray();
        var exact = rows.Count(d => d <= 1e-4);
        Assert.True(exact >= 28, $"only {exact} of 32 examples agree to 1e-4: {string.Join(", ", rows.Select(d => d.ToString("E1")))}");

        // Without its quantizers the same weights compute something else: the quantizers are really in the graph.
        using var plain = CompressedCheckpoint.Load(path);
        plain.ActivationQuantizers.Dispose();
        var unquantized = Reference(plain, inputs);
        Assert.True(MaxAbsDifference(unquantized, onnx) > 1e-2, "the ONNX logits match the network without activation quantizers");
    }

    [Fact]
    public void Onnx_runtime_accuracy_on_a_split_equals_the_checkpoints()
    {
        var path = SaveQkdStudent(0.1f);
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "shapes", ValidationSplit = 0.2 }, 3, SmallShapes);
        using var loaded = CompressedCheckpoint.Load(path);
        var expected = ModelEvaluator.Evaluate(loaded.Model, data, new ImageDataSplit("test", ((ImageDataSplit)data.Test).Images, CifarNormalization, AugmentationPolicy.None));
        using var session = OnnxModelSession.FromBytes(OnnxExporter.Export(path, OnnxWeightFormat.LowBit).Model);
        var actual = OnnxModelEvaluator.Evaluate(session, data, OnnxModelEvaluator.RawPixels(data.Test));
        Assert.Equal(300, actual.Examples);
        // Level flips at boundaries (see above) may move an example with near-equal logits, never more than a few.
        Assert.True(Math.Abs(expected.Correct - actual.Correct) <= 3, $"ONNX {actual.Correct} correct, checkpoint {expected.Correct}");
        Assert.True(Math.Abs(expected.Loss - actual.Loss) <= 1e-3, $"loss {actual.Loss} vs {expected.Loss}");
    }
}


/// <summary>The activation quantizer's ONNX form alone is bit-exact: Div, Clip, Round (half to even), Mul, as the LSQ kernel computes.</summary>
public sealed class OnnxActivationQuantizerFormTests
{
    [Theory]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    [InlineData(8, true)]
    public void The_quantizer_nodes_give_the_kernels_values_bit_for_bit(int bits, bool signed)
    {
        var step = 0.0731f;
        var random = new Random(bits);
        // Random values across and beyond the range, plus exact half-way points between levels (round half to even).
        var values = Enumerable.Range(0, 4000).Select(_ => (random.NextSingle() * 2 - 0.6f) * step * (1 << bits))
            .Concat(Enumerable.Range(-5, 12).Select(k => (k + 0.5f) * step)).ToArray();
        var quantizer = new ActivationQuantizer("layer", bits, step, signed);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var expected = quantizer.Quantizer.ForwardInput(TorchSharp.torch.tensor(values), TorchSharp.torch.full([1], step)).data<float>().ToArray();

        var graph = new OnnxGraphBuilder();
        graph.Input("x", Onnx.TensorProto.Types.DataType.Float, (long)values.Length);
        var weights = new OnnxWeightEmitter(graph, OnnxWeightFormat.Float, new Dictionary<string, QuantStudio.Core.Compression.QswBlock>(), new Dictionary<string, float[]>());
        var y = new OnnxModelEmitter(graph, weights, [quantizer]).QuantizedInput("layer", "x");
        graph.Output(y, Onnx.TensorProto.Types.DataType.Float, (long)values.Length);
        using var session = OnnxModelSession.FromBytes(Google.Protobuf.MessageExtensions.ToByteArray(graph.ToModel("test", [])));
        var actual = session.Run(values, [values.Length]).Output;
        // Bit patterns, except that the sign of a zero is not compared: the kernel's rounding gives +0 for a small
        // negative input, ONNX's Round −0, and the two are the same operand for every later operation.
        static int Pattern(float v) => v == 0 ? 0 : BitConverter.SingleToInt32Bits(v);
        Assert.Equal(expected.Select(Pattern), actual.Select(Pattern));
    }
}
