using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

internal static class FeatureSize
{
    /// <summary>Elements per example that <paramref name="features"/> outputs for <paramref name="input"/>, by a dry run.</summary>
    public static long Of(Module<Tensor, Tensor> features, InputShape input)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = features.training;
        features.eval();
        var y = features.call(torch.zeros(1, input.Channels, input.Height, input.Width));
        features.train(wasTraining);
        return y.numel();
    }
}
