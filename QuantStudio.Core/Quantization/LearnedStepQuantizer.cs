using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Quantization;

/// <summary>
/// The learnable-step quantizer (LSQ, Esser et al. 2020) that QKD trains: v̂ = round(clip(v/s,
/// −Q_N, Q_P))·s, with the step s a parameter. Signed weights use Q_N = 2^(b−1), Q_P = 2^(b−1)−1;
/// unsigned activations Q_N = 0, Q_P = 2^b−1. The op runs on the fused native kernel and
/// takes part in autograd.
/// </summary>
public sealed class LearnedStepQuantizer
{
    private LearnedStepQuantizer(int bits, int qn, int qp)
    {
        Bits = bits;
        Qn = qn;
        Qp = qp;
    }

    public int Bits { get; }
    public int Qn { get; }
    public int Qp { get; }

    public static LearnedStepQuantizer ForWeights(int bits)
    {
        if (bits is < 2 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "signed LSQ weights need bits in 2..8 (Q_P = 2^(b-1) - 1 must be >= 1)");
        return new LearnedStepQuantizer(bits, 1 << (bits - 1), (1 << (bits - 1)) - 1);
    }

    public static LearnedStepQuantizer ForActivations(int bits)
    {
        if (bits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "unsigned LSQ activations need bits in 1..8");
        return new LearnedStepQuantizer(bits, 0, (1 << bits) - 1);
    }

    /// <summary>The quantizer of a layer's input: signed like a weight when the input can be negative, unsigned otherwise.</summary>
    public static LearnedStepQuantizer ForInputs(int bits, bool signed) => signed ? ForWeights(bits) : ForActivations(bits);

    /// <summary>g = 1/sqrt(N·Q_P), N the number of values the step quantizes.</summary>
    public double GradScale(long count)
    {
        if (count < 1)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 1");
        return 1.0 / Math.Sqrt((double)count * Qp);
    }

    /// <summary>The initial step 2·mean(|v|)/sqrt(Q_P), as a one-element float tensor ready to be a parameter.</summary>
    public Tensor InitialStep(Tensor values)
    {
        using var scope = torch.NewDisposeScope();
        var meanAbs = values.detach().abs().mean().AsDouble();
        var step = 2 * meanAbs / Math.Sqrt(Qp);
        // A tensor of zeros would give a zero step and divide by it.
        if (!(step > 0))
            step = 1e-8;
        return scope.MoveToOuter(torch.tensor(new[] { step }, ScalarType.Float64).to_type(values.dtype));
    }

    /// <summary>v̂ with gradients for v (straight-through) and <paramref name="step"/> (scaled by g; default 1/sqrt(numel·Q_P)).</summary>
    public Tensor Forward(Tensor values, Tensor step, double? gradScale = null) =>
        LsqKernels.Lsq(values, step, Qn, Qp, gradScale ?? GradScale(values.numel()));

    /// <summary>
    /// A layer's input <paramref name="x"/> quantized with <paramref name="step"/>, as QKD and QAT do it: in
    /// float32 (the fused op's type; under bf16 autocast the layer casts back), the step's gradient scaled by
    /// the number of values per example, and a channels_last input kept channels_last.
    /// </summary>
    public Tensor ForwardInput(Tensor x, Tensor step)
    {
        var f = x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);
        var perExample = Math.Max(1, f.numel() / Math.Max(1, f.size(0)));
        var y = Forward(f, step, GradScale(perExample));
        return x.dim() == 4 && x.IsChannelsLast() ? y.ToChannelsLast() : y;
    }
}
