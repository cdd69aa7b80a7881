using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Quantization;

/// <summary>
/// A tensor after bucketed quantization: its dequantized values (float32, original shape), the
/// integer codes (uint8, original shape) and the per-bucket scales α and β (float32; β is all
/// zeros under absmax). Disposing it disposes the four tensors.
/// </summary>
public sealed class QuantizedTensor : IDisposable
{
    public QuantizedTensor(QuantizerSettings settings, Tensor dequantized, Tensor codes, Tensor alpha, Tensor beta)
    {
        Settings = settings;
        Dequantized = dequantized;
        Codes = codes;
        Alpha = alpha;
        Beta = beta;
    }

    public QuantizerSettings Settings { get; }
    public Tensor Dequantized { get; }
    public Tensor Codes { get; }
    public Tensor Alpha { get; }
    public Tensor Beta { get; }

    public long[] Shape => Codes.shape;
    public long Count => Codes.numel();
    public BucketLayout Layout => BucketLayout.For(Count, Settings.BucketSize);

    public void Dispose()
    {
        Dequantized.Dispose();
        Codes.Dispose();
        Alpha.Dispose();
        Beta.Dispose();
    }
}
