using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Checkpoints;

/// <summary>Turns one state_dict entry and its encoding into the block that stores it.</summary>
internal static class TensorEncoder
{
    public static QswBlock Encode(string name, Tensor tensor, TensorEncoding? encoding, CodeEncodingPolicy policy)
    {
        using var scope = torch.NewDisposeScope();
        var value = tensor.detach().cpu();
        if (!value.dtype.IsFloatingPoint())
        {
            if (encoding is not (null or FullPrecisionEncoding))
                throw new ArgumentException($"tensor '{name}' holds {value.dtype} values and cannot be quantized; integer buffers are stored as they are", nameof(encoding));
            return RawBlock.Of(name, value);
        }

        var fp32 = value.to_type(ScalarType.Float32);
        if (encoding is null or FullPrecisionEncoding)
            return RawBlock.Of(name, fp32);

        RequireFinite(name, fp32);
        var codes = policy switch
        {
            CodeEncodingPolicy.Packed => CodeEncoding.Packed,
            CodeEncodingPolicy.Huffman => CodeEncoding.Huffman,
            _ => (CodeEncoding?)null,
        };
        switch (encoding)
        {
            case UniformEncoding u:
            {
                using var q = new BucketedQuantizer(Settings(name, u)).Quantize(fp32);
                return QuantizedBlock.From(name, q, codes);
            }
            case PointsEncoding p:
            {
                NonUniformQuantizer quantizer;
                try
                {
                    quantizer = new NonUniformQuantizer(p.Points ?? [], p.BucketSize);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"tensor '{name}': {e.Message}", nameof(encoding), e);
                }
                var (_, pointCodes, alpha, beta) = quantizer.Quantize(fp32.data<float>().ToArray());
                return new PointsBlock(name, fp32.shape, [.. p.Points!], p.BucketSize, alpha, beta, pointCodes, codes);
            }
            case LsqEncoding l:
            {
                if (l.Bits is < 2 or > 8)
                    throw new ArgumentOutOfRangeException(nameof(encoding), l.Bits, $"tensor '{name}': LSQ weights need bits in 2..8");
                if (!(l.Step > 0) || !float.IsFinite(l.Step))
                    throw new ArgumentOutOfRangeException(nameof(encoding), l.Step, $"tensor '{name}': the LSQ step must be positive and finite");
                return new LsqBlock(name, fp32.shape, l.Bits, l.Step, LsqBlock.Encode(fp32.data<float>().ToArray(), l.Bits, l.Step), codes);
            }
            default:
                throw new ArgumentException($"tensor '{name}': unsupported encoding {encoding.GetType().Name}", nameof(encoding));
        }
    }

    /// <summary>The dequantized float32 values a block holds, in its shape.</summary>
    public static Tensor Decode(QswBlock block) => block switch
    {
        QuantizedBlock q => q.DequantizeTensor(),
        PointsBlock p => torch.tensor(p.Dequantize(), p.Shape),
        LsqBlock l => torch.tensor(l.Dequantize(), l.Shape),
        RawBlock r => RawTensor(r),
        _ => throw new CompressedCheckpointFormatException($"tensor '{block.Name}': unsupported block {block.GetType().Name}"),
    };

    private static Tensor RawTensor(RawBlock r)
    {
        try
        {
            return r.ToTensor();
        }
        catch (QswFormatException e)
        {
            throw new CompressedCheckpointFormatException(e.Message, e);
        }
    }

    private static QuantizerSettings Settings(string name, UniformEncoding u)
    {
        var scheme = u.Scheme switch
        {
            "uniform" => QuantizationScheme.Uniform,
            "absmax" => QuantizationScheme.AbsMax,
            _ => throw new ArgumentException($"tensor '{name}': scheme '{u.Scheme}' is unknown; allowed: uniform, absmax", "encoding"),
        };
        try
        {
            return new QuantizerSettings(u.Bits, u.BucketSize, scheme, Quantization.RoundingMode.Deterministic);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"tensor '{name}': {e.Message}", "encoding", e);
        }
    }

    private static void RequireFinite(string name, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var bad = t.isfinite().logical_not().to_type(ScalarType.Int64).sum().AsInt64();
        if (bad > 0)
            throw new ArgumentException($"tensor '{name}' holds {bad} NaN or Inf value{(bad == 1 ? "" : "s")}; quantization needs finite weights");
    }
}
