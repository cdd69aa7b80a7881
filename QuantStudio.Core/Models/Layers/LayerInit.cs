using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>PyTorch's default initialization of weighted layers.</summary>
internal static class LayerInit
{
    /// <summary>kaiming_uniform(a=√5) for the weight, U(±1/√fan_in) for the bias: torch.nn.Linear's and Conv2d's reset_parameters.</summary>
    public static void Default(Tensor weight, Tensor? bias, long fanIn)
    {
        using var noGrad = torch.no_grad();
        torch.nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            bias.uniform_(-bound, bound);
        }
    }

    /// <summary>
    /// A new float32 parameter owned by its layer: out of any dispose scope the caller has open (a model built
    /// inside a scope must outlive it), freed with the module.
    /// </summary>
    public static TorchSharp.Modules.Parameter Parameter(long[] shape)
    {
        using var scope = NewDisposeScope();
        var parameter = new TorchSharp.Modules.Parameter(empty(shape, ScalarType.Float32), requires_grad: true);
        parameter.DetachFromDisposeScope();
        return parameter;
    }
}
