using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>Size and cost of a model: parameters, and floating-point operations for one example's forward pass.</summary>
public sealed record ModelStats(long Parameters, long Flops)
{
    /// <summary>
    /// Counts FLOPs (a multiply-add is 2) of every convolution and linear layer by running one
    /// example through the model with forward hooks; for a language model, FLOPs per character.
    /// </summary>
    public static ModelStats Measure(Module<Tensor, Tensor> model, InputShape input)
    {
        long flops = 0;
        var hooks = new List<HookHandle>();
        foreach (var m in model.modules())
        {
            switch (m)
            {
                case TransformableConv2d conv:
                    hooks.Add(conv.AddOutputObserver(y =>
                        flops += 2 * y.numel() * (conv.in_channels / conv.groups) * conv.kernel_size * conv.kernel_size));
                    break;
                case TransformableLinear linear:
                    hooks.Add(linear.AddOutputObserver(y => flops += 2 * y.numel() * linear.in_features));
                    break;
                case TransformableLstm lstm:
                    // Per step and layer: four gates, each an input and a recurrent matrix-vector product.
                    for (var l = 0; l < lstm.num_layers; l++)
                        flops += 2 * 4 * lstm.hidden_size * ((l == 0 ? lstm.input_size : lstm.hidden_size) + lstm.hidden_size);
                    break;
            }
        }
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var wasTraining = model.training;
            model.eval();
            var x = input.IsText ? torch.zeros([1, 1], ScalarType.Int64) : torch.zeros(1, input.Channels, input.Height, input.Width);
            model.call(x);
            model.train(wasTraining);
        }
        finally
        {
            foreach (var h in hooks)
                h.Dispose();
        }
        return new ModelStats(model.NumParameters(), flops);
    }
}
