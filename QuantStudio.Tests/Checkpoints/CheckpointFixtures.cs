using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>Small real models from the zoo, their descriptions, and exact tensor comparisons.</summary>
internal static class CheckpointFixtures
{
    public static readonly InputShape Mnist = InputShape.Image(1, 28, 28, 10);
    public static readonly InputShape Shapes = InputShape.Image(3, 32, 32, 10);

    public static Module<Tensor, Tensor> Create(string arch, InputShape input, double width = 1, long seed = 7)
    {
        torch.manual_seed(seed);
        return ModelZoo.Create(arch, input, width);
    }

    public static CompressedModelDescription Describe(string arch, InputShape input, double width = 1, string dataset = "mnist",
        Normalization? normalization = null, string method = Methods.QuantizedDistillation) =>
        new(arch, width, 1, input, dataset, normalization ?? new Normalization([0.1307f], [0.3081f]),
            new QuantizationSpec { Bits = 4, BucketSize = 256 }, method);

    /// <summary>The conv and linear weights of a model: the tensors the methods quantize.</summary>
    public static List<string> Weights(Module model)
    {
        using var state = model.StateDictOf();
        return state.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && kv.Value.dim() >= 2).Select(kv => kv.Key).ToList();
    }

    /// <summary>Float bit patterns, so that −0 vs 0 or any last-bit difference counts.</summary>
    public static int[] Bits(Tensor t) => t.to_type(ScalarType.Float32).data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    public static void AssertBitwiseEqual(Tensor expected, Tensor actual, string name)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{name}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        Assert.True(expected.dtype == actual.dtype, $"{name}: dtype {actual.dtype}, expected {expected.dtype}");
        if (expected.dtype.IsFloatingPoint())
        {
            var e = Bits(expected);
            var a = Bits(actual);
            var firstDifference = Enumerable.Range(0, e.Length).FirstOrDefault(i => e[i] != a[i], -1);
            Assert.True(firstDifference < 0, $"{name}: element {firstDifference} differs");
        }
        else
        {
            Assert.Equal(expected.to_type(ScalarType.Int64).data<long>().ToArray(), actual.to_type(ScalarType.Int64).data<long>().ToArray());
        }
    }

    /// <summary>Gives batch-norm buffers values other than their defaults, so a round trip that dropped them would show.</summary>
    public static void RunTrainingForward(Module<Tensor, Tensor> model, InputShape input, int batches = 2)
    {
        model.train();
        using var noGrad = torch.no_grad();
        for (var i = 0; i < batches; i++)
        {
            using var scope = torch.NewDisposeScope();
            model.call(torch.randn([8, input.Channels, input.Height, input.Width]));
        }
    }
}
