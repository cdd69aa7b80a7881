using System.Globalization;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// Whether a safetensors file holds the weights of a zoo model built for a given input, decided from the file's header
/// and the model's own state_dict shapes, before a run is queued: a teacher for another architecture, another width, or
/// images of another size gets one short sentence naming the first differences, not a failed run later.
/// </summary>
public static class WeightsFileFit
{
    /// <summary>Differences named in the message; the rest are counted.</summary>
    public const int Named = 3;

    private static readonly Lock Build = new();

    /// <summary>What does not fit, or null when every tensor of the model is in the file with its shape and nothing else is.</summary>
    /// <exception cref="SafetensorsFormatException">The file is not a well-formed safetensors file.</exception>
    public static string? Problem(Stream file, string arch, double width, double depth, InputShape input)
    {
        var (entries, metadata, _) = SafetensorsHeader.Read(file);
        var inFile = entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
        var expected = ExpectedShapes(arch, width, depth, input);

        var missing = expected.Keys.Where(k => !inFile.ContainsKey(k)).ToList();
        var unexpected = inFile.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var reshaped = expected.Where(kv => inFile.TryGetValue(kv.Key, out var s) && !s.SequenceEqual(kv.Value))
            .Select(kv => $"{kv.Key} is [{Dims(inFile[kv.Key])}] in the file, [{Dims(kv.Value)}] in the model").ToList();
        if (missing.Count == 0 && unexpected.Count == 0 && reshaped.Count == 0)
            return null;

        var model = $"{arch} (width {Number(width)}{(depth != 1 ? $", depth {Number(depth)}" : "")}) on {Describe(input)}";
        var parts = new List<string>();
        if (reshaped.Count > 0)
            parts.Add($"{reshaped.Count} tensor(s) have another shape: {List(reshaped)}");
        if (missing.Count > 0)
            parts.Add($"{missing.Count} of the model's {expected.Count} tensors are missing: {List(missing)}");
        if (unexpected.Count > 0)
            parts.Add($"{unexpected.Count} tensor(s) are not the model's: {List(unexpected)}");
        var savedFor = metadata.TryGetValue("arch", out var a) && !string.IsNullOrWhiteSpace(a)
            ? $" The file says it holds {a}{(metadata.TryGetValue("width", out var w) ? $" (width {w})" : "")}."
            : "";
        return $"the weights do not fit {model}: {string.Join("; ", parts)}.{savedFor}";
    }

    /// <summary>The model's state_dict names and shapes; models are built one at a time so concurrent checks cannot stack their memory.</summary>
    private static Dictionary<string, long[]> ExpectedShapes(string arch, double width, double depth, InputShape input)
    {
        lock (Build)
        {
            using var model = ModelZoo.Create(arch, input, width, depth);
            using var state = model.StateDictOf();
            return state.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        }
    }

    private static string Describe(InputShape input) => input.IsText
        ? $"text with a {input.Classes}-symbol vocabulary"
        : $"{input.Channels}×{input.Height}×{input.Width} images in {input.Classes} classes";

    private static string List(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(Named)) + (items.Count > Named ? $" and {items.Count - Named} more" : "");

    private static string Dims(long[] shape) => string.Join(", ", shape);

    private static string Number(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);
}
