using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

/// <summary>The four outputs of the fused bucketed quantizer.</summary>
public readonly record struct BucketedQuantizeResult(Tensor Dequantized, Tensor Codes, Tensor Alpha, Tensor Beta);

/// <summary>
/// Fused native quantization kernels (Native/src/THSQuant.cpp): each is one pass over the data
/// with no temporaries, parallel over buckets or element ranges. The quantization library in
/// QuantStudio.Core builds its quantizers on these.
/// </summary>
public static unsafe class QuantKernels
{
    /// <summary>
    /// Quantizes a float32 CPU tensor in buckets of <paramref name="bucketSize"/> elements
    /// (0 = one bucket for the whole tensor). Uniform: α = max − min, β = min per bucket and
    /// 2^bits levels. Absmax: α = max |v|, β = 0, a sign bit and 2^(bits−1) levels on |v|.
    /// Stochastic rounding draws per element from (<paramref name="seed"/>, index).
    /// </summary>
    public static BucketedQuantizeResult BucketedQuantize(Tensor input, long bucketSize, int bits, bool absmax, bool stochastic, ulong seed = 0)
    {
        IntPtr d, c, a, b;
        NativeError.CheckStatus(LibTorch.THSQuant_bucketed_quantize(input.Handle, bucketSize, bits, absmax ? 1 : 0, stochastic ? 1 : 0, seed, &d, &c, &a, &b));
        return new BucketedQuantizeResult(new Tensor(d), new Tensor(c), new Tensor(a), new Tensor(b));
    }

    /// <summary>Float32 values from uint8 codes and per-bucket (α, β); β may be null for absmax.</summary>
    public static Tensor BucketedDequantize(Tensor codes, Tensor alpha, Tensor? beta, long bucketSize, int bits, bool absmax) =>
        Tensor.FromHandle(LibTorch.THSQuant_bucketed_dequantize(codes.Handle, alpha.Handle, beta?.Handle ?? IntPtr.Zero, bucketSize, bits, absmax ? 1 : 0));

    /// <summary>
    /// The learnable-step quantizer v̂ = round(clip(v/s, −Qn, Qp))·s as an autograd op: the
    /// gradient reaches v straight through inside the range and s as LSQ prescribes, times
    /// <paramref name="gradScale"/>.
    /// </summary>
    public static Tensor Lsq(Tensor v, Tensor step, double qn, double qp, double gradScale) =>
        Tensor.FromHandle(LibTorch.THSQuant_lsq(v.Handle, step.Handle, qn, qp, gradScale));

    /// <summary>The fused LSQ backward alone: gradients of sum(gradOutput · v̂) with respect to v and s.</summary>
    public static (Tensor GradInput, Tensor GradStep) LsqBackward(Tensor v, Tensor step, Tensor gradOutput, double qn, double qp, double gradScale)
    {
        IntPtr gv, gs;
        NativeError.CheckStatus(LibTorch.THSQuant_lsq_backward(v.Handle, step.Handle, gradOutput.Handle, qn, qp, gradScale, &gv, &gs));
        return (new Tensor(gv), new Tensor(gs));
    }
}
