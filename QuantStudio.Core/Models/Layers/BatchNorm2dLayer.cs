using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Core.Models.Layers;

/// <summary>
/// 2-D batch normalization, the same module as TorchSharp's <c>BatchNorm2d</c> (same parameters, buffers and state-dict
/// names, same arithmetic through <c>functional.batch_norm</c>), whose training forward counts batches with a held Scalar:
/// TorchSharp's own does <c>num_batches_tracked.add_(1)</c>, a Scalar nothing holds while libtorch reads it
/// (<see cref="HeldScalars"/>), on every training step of every network with batch norm.
/// </summary>
public sealed class BatchNorm2dLayer(long numFeatures, double eps = 1e-5, double momentum = 0.1)
    : BatchNorm(numFeatures, eps, momentum, affine: true, track_running_stats: true, device: null, dtype: null, name: "BatchNorm2d")
{
    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 4)
            throw new ArgumentException($"expected 4D input, but got {input.ndim}D input.");
    }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        var factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is not null)
        {
            using (torch.no_grad())
                num_batches_tracked.add_(HeldScalars.One, HeldScalars.One);
            if (momentum is null)
                factor = 1.0 / num_batches_tracked.AsInt64();
        }
        var useBatchStatistics = training || running_mean is null && running_var is null;
        var keepStatistics = !training || track_running_stats;
        return F.batch_norm(input, keepStatistics ? running_mean : null, keepStatistics ? running_var : null, weight, bias,
            useBatchStatistics, factor, eps);
    }
}
