using System.Globalization;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training.Quantizers;
using TorchSharp;

namespace QuantStudio.Core.Training;

/// <summary>Warnings about a run's size that the user can act on, for the log and the summary.</summary>
public static class CompressionNotices
{
    /// <summary>The share of the compressed size above which the layers left in full precision are said to dominate it.</summary>
    public const double DominantShare = 0.5;

    /// <summary>
    /// When the first and last layers, left in full precision (<c>quantize_first_last: false</c>, the methods with
    /// buckets), hold more than <see cref="DominantShare"/> of the compressed model, a warning that says so and
    /// suggests the setting. A multi-layer perceptron on images is the usual case: its first layer holds most weights.
    /// </summary>
    public static IReadOnlyList<string> For(ExperimentSpec spec, torch.nn.Module student, CompressionReport report)
    {
        if (!Methods.UsesBuckets(spec.Method) || spec.Quantization.QuantizeFirstLast || report.HuffmanBytes <= 0)
            return [];
        var quantized = report.Layers.Select(l => l.Layer).ToHashSet(StringComparer.Ordinal);
        var kept = QuantizableWeights.Find(student).Where(w => w.IsFirstOrLast && !quantized.Contains(w.Name)).ToList();
        var keptBytes = kept.Sum(w => w.Weight.numel() * 4);
        var share = (double)keptBytes / report.HuffmanBytes;
        if (share <= DominantShare)
            return [];
        return [FirstLastMessage(string.Join(", ", kept.Select(w => w.Name)), share, report.CompressionRatio)];
    }

    /// <summary>The warning's text; <paramref name="layers"/> names the tensors when known.</summary>
    public static string FirstLastMessage(string? layers, double share, double ratio) =>
        string.Create(CultureInfo.InvariantCulture,
            $"the first and last layers{(layers is null ? "" : $" ({layers})")} are left in full precision and hold {share:P0} of the compressed size, " +
            $"so the model compresses only {ratio:F2}x; set quantization.quantize_first_last: true to quantize them too");
}
