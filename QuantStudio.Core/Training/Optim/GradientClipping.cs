using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// Scales the gradients of a set of tensors so that their global L2 norm is at most a bound, as
/// <c>torch.nn.utils.clip_grad_norm_</c> does, for any tensors (TorchSharp's takes only <c>Parameter</c>s, and the LSQ
/// steps are plain tensors).
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips in place; returns the global norm before clipping (0 when no tensor has a gradient).</summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> tensors, double maxNorm)
    {
        if (!(maxNorm > 0))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "the bound must be positive");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var grads = tensors.Select(t => t.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0)
            return 0;
        using var two = 2.ToScalar();
        var norm = torch.stack(grads.Select(g => g.to_type(ScalarType.Float64).pow(two).sum()).ToArray()).sum().sqrt().AsDouble();
        if (norm > maxNorm)
        {
            // Held for the calls (see HeldScalars).
            using var factor = (maxNorm / (norm + 1e-6)).ToScalar();
            foreach (var g in grads)
                g.mul_(factor);
        }
        return norm;
    }
}
