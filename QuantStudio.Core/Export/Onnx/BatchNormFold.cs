using QuantStudio.Core.Engine;
using TorchSharp.Modules;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>
/// An eval-mode batch norm as a per-channel affine map y = x·scale + shift, with
/// scale = γ / √(running_var + ε) and shift = β − running_mean·scale (computed in double, stored as float32).
/// Folded into the convolution before it, scale multiplies that convolution's output channels and shift
/// becomes its bias.
/// </summary>
internal sealed record BatchNormFold(float[] Scale, float[] Shift)
{
    public static BatchNormFold Of(BatchNorm bn)
    {
        var mean = bn.running_mean!.data<float>().ToArray();
        var variance = bn.running_var!.data<float>().ToArray();
        var channels = mean.Length;
        var gamma = bn.weight is null ? Enumerable.Repeat(1f, channels).ToArray() : bn.weight.data<float>().ToArray();
        var beta = bn.bias is null ? new float[channels] : bn.bias.data<float>().ToArray();
        var scale = new float[channels];
        var shift = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var s = gamma[c] / Math.Sqrt(variance[c] + bn.eps);
            scale[c] = (float)s;
            shift[c] = (float)(beta[c] - mean[c] * s);
        }
        return new BatchNormFold(scale, shift);
    }

    /// <summary>The bias of a convolution with bias <paramref name="bias"/> (or none) followed by this batch norm.</summary>
    public float[] FoldedBias(float[]? bias)
    {
        var result = new float[Shift.Length];
        for (var c = 0; c < result.Length; c++)
            result[c] = (float)((bias?[c] ?? 0.0) * Scale[c] + Shift[c]);
        return result;
    }
}
