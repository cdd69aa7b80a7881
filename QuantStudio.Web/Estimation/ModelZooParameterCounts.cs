using QuantStudio.Core.Engine;
using System.Collections.Concurrent;
using QuantStudio.Core.Models;
using QuantStudio.Core.Training.Quantizers;

namespace QuantStudio.Web.Estimation;

/// <summary>
/// Parameter counts from the model zoo itself: the model is built for the dataset's input shape, counted (all parameters,
/// and the weights of its first and last quantizable layers) and disposed, and the counts are cached per (arch, width, depth, input shape). Models are built one at a time, so concurrent
/// requests for large widths cannot stack their memory, and the cache is bounded because width and depth are free numbers.
/// </summary>
public sealed class ModelZooParameterCounts : IModelParameterCounts
{
    /// <summary>Entries kept before the cache starts over.</summary>
    public const int MaxCachedCounts = 512;

    /// <summary>The validator's range for width and depth multipliers.</summary>
    public const double MaxMultiplier = 8;

    /// <summary>Text datasets are counted with this vocabulary: printable ASCII plus newline and tab, rounded up.</summary>
    public const int DefaultVocabulary = 96;

    private static readonly InputShape SmallImage = InputShape.Image(3, 32, 32, 10);

    private readonly ConcurrentDictionary<(string Arch, double Width, double Depth, InputShape Input), (long Parameters, long FirstLast)?> cache = new();
    private readonly Lock build = new();

    /// <summary>The input a dataset feeds a model, or null for a name this does not know.</summary>
    public static InputShape? DatasetShape(string? dataset) => dataset switch
    {
        "shapes" or "cifar10" => SmallImage,
        "cifar100" => InputShape.Image(3, 32, 32, 100),
        "mnist" or "fashion-mnist" => InputShape.Image(1, 28, 28, 10),
        "text" or "text-synthetic" => InputShape.Text(DefaultVocabulary),
        _ => null,
    };

    /// <summary>The shape <paramref name="arch"/> is counted with for <paramref name="dataset"/>.</summary>
    public static InputShape InputFor(string arch, string? dataset)
    {
        var text = ModelZoo.IsLanguageModel(arch);
        return DatasetShape(dataset) is { } shape && shape.IsText == text
            ? shape
            : text ? InputShape.Text(DefaultVocabulary) : SmallImage;
    }

    public long? Count(string arch, double width = 1.0, double depth = 1.0, string? dataset = null) =>
        Measure(arch, width, depth, dataset)?.Parameters;

    public long? FirstLastWeights(string arch, double width = 1.0, double depth = 1.0, string? dataset = null) =>
        Measure(arch, width, depth, dataset)?.FirstLast;

    private (long Parameters, long FirstLast)? Measure(string arch, double width, double depth, string? dataset)
    {
        if (!ModelZoo.IsKnown(arch) || width is not (> 0 and <= MaxMultiplier) || depth is not (> 0 and <= MaxMultiplier))
            return null;
        var key = (arch, width, depth, InputFor(arch, dataset));
        if (cache.TryGetValue(key, out var known))
            return known;
        lock (build)
        {
            if (cache.TryGetValue(key, out known))
                return known;
            (long, long)? measured;
            try
            {
                using var model = ModelZoo.Create(arch, key.Item4, width, depth);
                measured = (model.NumParameters(),
                    QuantizableWeights.Find(model).Where(w => w.IsFirstOrLast).Sum(w => w.Weight.numel()));
            }
            catch (ArgumentException)
            {
                // A combination the zoo refuses (a width that rounds a layer away, say): no estimate rather than an error page.
                measured = null;
            }
            if (cache.Count >= MaxCachedCounts)
                cache.Clear();
            cache[key] = measured;
            return measured;
        }
    }
}
