using QuantStudio.Core.Compression;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>Builds the <see cref="LayerSnapshot"/> and <see cref="CompressionReport"/> events from quantized weight views.</summary>
public static class SnapshotReports
{
    public const int HistogramBins = 60;

    public static LayerSnapshot Snapshot(string phase, int epoch, QuantizedWeightView view)
    {
        using var scope = torch.NewDisposeScope();
        var w = view.Weight.detach().to_type(ScalarType.Float32);
        double lo = w.min().item<float>(), hi = w.max().item<float>();
        if (!(hi > lo))
            hi = lo + 1e-6;
        var counts = Histogram(w.data<float>().ToArray(), lo, hi);
        var edges = Enumerable.Range(0, HistogramBins + 1).Select(i => lo + (hi - lo) * i / HistogramBins).ToArray();
        return new LayerSnapshot(phase, epoch, view.Name, view.Weight.shape, view.Bits, view.BucketSize, edges, counts, view.Levels, view.Scales);
    }

    /// <summary>
    /// Sizes of the whole student: quantized weights packed (or Huffman-coded) with their scales, and
    /// every other floating-point tensor of the state_dict (biases, batch norm, unquantized layers) at
    /// 4 bytes per element. Fp32Bytes is the whole state_dict in fp32, so the ratio is the model's.
    /// Integer buffers (batch-norm step counters) are left out of both sides.
    /// </summary>
    public static CompressionReport Compression(Module model, IReadOnlyList<QuantizedWeightView> views)
    {
        var quantized = views.ToDictionary(v => v.Name);
        long fp32 = 0, rest = 0;
        using (var state = model.StateDictOf())
        {
            foreach (var (name, t) in state)
            {
                if (!t.dtype.IsFloatingPoint())
                    continue;
                fp32 += t.numel() * 4;
                if (!quantized.ContainsKey(name))
                    rest += t.numel() * 4;
            }
        }
        var layers = new List<LayerCompression>();
        long packed = rest, huffman = rest;
        foreach (var v in views)
        {
            var sizes = Sizes(v);
            packed += sizes.PackedBytes + v.ExtraBytes;
            huffman += sizes.StoredBytes + v.ExtraBytes;
            layers.Add(new LayerCompression(v.Name, sizes.Count, v.Bits, v.BucketSize, sizes.Fp32Bytes, sizes.PackedBytes + v.ExtraBytes,
                sizes.HuffmanBytes + v.ExtraBytes, sizes.HuffmanMeanBits));
        }
        var weightCount = views.Sum(v => (long)v.Codes.Length);
        var ratio = huffman == 0 ? 1 : (double)fp32 / huffman;
        var bitsPerWeight = weightCount == 0 ? 32 : 8.0 * (huffman - rest) / weightCount;
        return new CompressionReport(fp32, packed, huffman, ratio, bitsPerWeight, layers);
    }

    public static TensorSizes Sizes(QuantizedWeightView v) =>
        TensorSizes.Of(v.Name, EncodedCodes.Encode(v.Codes, v.Bits), v.BucketCount, v.ScalesPerBucket);

    /// <summary>Counts in <see cref="HistogramBins"/> equal bins over [lo, hi], the top edge in the last bin (torch.histc's rule).</summary>
    private static long[] Histogram(float[] values, double lo, double hi)
    {
        var counts = new long[HistogramBins];
        var width = (hi - lo) / HistogramBins;
        foreach (var v in values)
        {
            if (!(v >= lo && v <= hi))
                continue;
            var bin = (int)((v - lo) / width);
            counts[Math.Min(bin, HistogramBins - 1)]++;
        }
        return counts;
    }
}
