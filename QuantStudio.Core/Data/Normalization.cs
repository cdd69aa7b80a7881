using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Data;

/// <summary>Per-channel mean and standard deviation of pixels scaled to [0, 1]: x' = (x − mean) / std.</summary>
public sealed class Normalization
{
    public Normalization(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"mean has {mean.Count} channels and std {std.Count}: they must match and be non-empty");
        for (var c = 0; c < std.Count; c++)
            if (!(std[c] > 0) || !float.IsFinite(mean[c]))
                throw new ArgumentException($"channel {c}: std must be positive and mean finite (got mean {mean[c]}, std {std[c]})");
        Mean = [.. mean];
        Std = [.. std];
    }

    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }
    public int Channels => Mean.Count;

    public static Normalization Identity(int channels) =>
        new(Enumerable.Repeat(0f, channels).ToArray(), Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>The normalized value of every byte for every channel (256 × C floats): batches use it as a lookup table.</summary>
    public float[] ByteLookup()
    {
        var table = new float[Channels * 256];
        for (var c = 0; c < Channels; c++)
            for (var b = 0; b < 256; b++)
                table[c * 256 + b] = (b / 255f - Mean[c]) / Std[c];
        return table;
    }

    /// <summary>Normalizes an N×C×H×W (or C×H×W) float tensor holding values in [0, 1].</summary>
    public Tensor Apply(Tensor x)
    {
        var rank = x.dim();
        if (rank is not (3 or 4) || x.size(-3) != Channels)
            throw new ArgumentException($"expected an N×{Channels}×H×W or {Channels}×H×W tensor, got shape [{string.Join(", ", x.shape)}]", nameof(x));
        long[] shape = rank == 4 ? [1, Channels, 1, 1] : [Channels, 1, 1];
        using var mean = torch.tensor(Mean.ToArray(), shape);
        using var std = torch.tensor(Std.ToArray(), shape);
        using var centered = x.sub(mean);
        return centered.div(std);
    }

    /// <summary>Mean and std per channel of byte images laid out C×H×W, one after another.</summary>
    public static Normalization Compute(ImageSet images)
    {
        var c = images.Channels;
        var plane = images.Height * images.Width;
        var sum = new double[c];
        var sumSq = new double[c];
        var pixels = images.Pixels;
        for (var i = 0; i < images.Count; i++)
        {
            var baseOffset = i * images.ImageSize;
            for (var ch = 0; ch < c; ch++)
            {
                long s = 0, sq = 0;
                var span = pixels.AsSpan(baseOffset + ch * plane, plane);
                foreach (var b in span)
                {
                    s += b;
                    sq += b * b;
                }
                sum[ch] += s;
                sumSq[ch] += sq;
            }
        }
        var n = (double)images.Count * plane;
        var mean = new float[c];
        var std = new float[c];
        for (var ch = 0; ch < c; ch++)
        {
            var m = sum[ch] / n / 255.0;
            var v = sumSq[ch] / n / (255.0 * 255.0) - m * m;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(v, 1e-12));
        }
        return new Normalization(mean, std);
    }

    public override string ToString() => $"mean [{string.Join(", ", Mean)}], std [{string.Join(", ", Std)}]";
}
