using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Quantization;

/// <summary>
/// The bucketed quantizer of Polino et al. (2018) on the fused native kernel: flatten, split into
/// buckets, scale each bucket by its own (α, β), round to 2^bits levels (deterministically or
/// stochastically), scale back.
/// </summary>
public sealed class BucketedQuantizer
{
    public BucketedQuantizer(QuantizerSettings settings) => Settings = settings;

    public QuantizerSettings Settings { get; }

    /// <summary>Quantizes <paramref name="weights"/> (converted to float32 on the CPU if needed; never modified).</summary>
    public QuantizedTensor Quantize(Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        var input = weights.dtype == ScalarType.Float32 && weights.device.type == DeviceType.CPU
            ? weights
            : weights.cpu().to_type(ScalarType.Float32);
        var r = QuantKernels.BucketedQuantize(input, Settings.BucketSize ?? 0, Settings.Bits,
            absmax: Settings.Scheme == QuantizationScheme.AbsMax,
            stochastic: Settings.Rounding == RoundingMode.Stochastic,
            seed: Settings.Seed);
        return new QuantizedTensor(Settings, scope.MoveToOuter(r.Dequantized), scope.MoveToOuter(r.Codes),
            scope.MoveToOuter(r.Alpha), scope.MoveToOuter(r.Beta));
    }

    /// <summary>Float32 values from codes and scales, bit-identical to what <see cref="Quantize"/> returned.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor alpha, Tensor beta, QuantizerSettings settings) =>
        QuantKernels.BucketedDequantize(codes, alpha, beta, settings.BucketSize ?? 0, settings.Bits, settings.Scheme == QuantizationScheme.AbsMax);
}
