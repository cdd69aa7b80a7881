using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Export;

/// <summary>Zoo models saved as compressed checkpoints with non-trivial batch norms, and the two forward passes to compare.</summary>
internal static class OnnxFixtures
{
    public static readonly InputShape Mnist = InputShape.Image(1, 28, 28, 10);
    public static readonly InputShape Cifar = InputShape.Image(3, 32, 32, 10);
    public static readonly Normalization MnistNormalization = new([0.1307f], [0.3081f]);
    public static readonly Normalization CifarNormalization = new([0.4914f, 0.4822f, 0.4465f], [0.247f, 0.2435f, 0.2616f]);

    /// <summary>
    /// <paramref name="arch"/> at <paramref name="width"/>, its batch norms given random affine parameters and running
    /// statistics (so folding them is tested), saved with every conv and linear weight but the first and last
    /// encoded by <paramref name="encoding"/> (those two stay float32, as the methods keep them).
    /// </summary>
    public static string SaveModel(string dir, string arch, InputShape input, double width, Func<string, TensorEncoding> encoding,
        IReadOnlyList<ActivationQuantizer>? activationQuantizers = null, string method = Methods.QuantizedDistillation, long seed = 5)
    {
        torch.manual_seed(seed);
        using var model = ModelZoo.Create(arch, input, width);
        RandomizeBatchNorms(model);
        var weights = QuantizableWeights(model);
        var encodings = weights.Skip(1).SkipLast(1).ToDictionary(n => n, encoding);
        var normalization = input.IsText ? null : input.Channels == 1 ? MnistNormalization : CifarNormalization;
        var description = new CompressedModelDescription(arch, width, 1, input, input.IsText ? "text-synthetic" : input.Channels == 1 ? "mnist" : "shapes",
            normalization, new QuantizationSpec { Bits = 4, BucketSize = 256 }, method)
        {
            Seed = 3,
            ValidationSplit = 0.2,
            ActivationQuantizers = activationQuantizers ?? [],
        };
        var path = Path.Combine(dir, $"{arch}-{Guid.NewGuid():N}.qsc");
        CompressedCheckpoint.Save(path, model, description, encodings);
        return path;
    }

    /// <summary>The weights the methods quantize, in state_dict order: conv, linear, embedding and LSTM matrices.</summary>
    public static List<string> QuantizableWeights(nn.Module model)
    {
        using var state = model.StateDictOf();
        return state.Where(kv => kv.Key.Contains("weight", StringComparison.Ordinal) && kv.Value.dim() >= 2).Select(kv => kv.Key).ToList();
    }

    public static void RandomizeBatchNorms(nn.Module model)
    {
        using var noGrad = torch.no_grad();
        foreach (var bn in model.modules().OfType<BatchNorm>())
        {
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.3, 0.3);
            bn.running_mean!.uniform_(-0.2, 0.2);
            bn.running_var!.uniform_(0.5, 2.0);
        }
    }

    /// <summary>Pixels in [0, 1] (what the ONNX graph takes) or character ids.</summary>
    public static (float[] Pixels, long[] Ids, long[] Shape) Inputs(InputShape input, int batch, int sequence = 12, long seed = 11)
    {
        var random = new Random((int)seed);
        if (input.IsText)
        {
            var ids = Enumerable.Range(0, batch * sequence).Select(_ => (long)random.Next(input.Classes)).ToArray();
            return ([], ids, [batch, sequence]);
        }
        var count = batch * input.Channels * input.Height * input.Width;
        // Byte pixels over 255, as the data loader makes them.
        var pixels = Enumerable.Range(0, count).Select(_ => random.Next(256) / 255f).ToArray();
        return (pixels, [], [batch, input.Channels, input.Height, input.Width]);
    }

    /// <summary>Our own forward pass: the loaded checkpoint on the inputs normalized as the data loader does.</summary>
    public static float[] Reference(LoadedCompressedModel loaded, (float[] Pixels, long[] Ids, long[] Shape) inputs)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var d = loaded.Description;
        Tensor x;
        if (d.Input.IsText)
        {
            x = torch.tensor(inputs.Ids, inputs.Shape);
        }
        else
        {
            x = torch.tensor(inputs.Pixels, inputs.Shape);
            if (d.Normalization is { } n)
                x = n.Apply(x);
        }
        return loaded.Model.call(x).contiguous().data<float>().ToArray();
    }

    public static float[] RunOnnx(byte[] model, (float[] Pixels, long[] Ids, long[] Shape) inputs)
    {
        using var session = OnnxModelSession.FromBytes(model);
        return session.TakesIds ? session.Run(inputs.Ids, inputs.Shape).Output : session.Run(inputs.Pixels, inputs.Shape).Output;
    }

    public static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (var i = 0; i < a.Length; i++)
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    public static int[] ArgMax(float[] logits, int classes) =>
        Enumerable.Range(0, logits.Length / classes).Select(r =>
        {
            var row = logits.AsSpan(r * classes, classes);
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (row[c] > row[best])
                    best = c;
            return best;
        }).ToArray();
}
