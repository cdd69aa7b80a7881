using System.Globalization;
using System.Reflection;
using System.Text.Json;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Sweeps;

/// <summary>What JSON a sweepable field takes.</summary>
public enum SweepValueKind
{
    Integer,
    Number,
    Boolean,
    Text,
}

/// <summary>
/// One field of <see cref="ExperimentSpec"/> a sweep can vary, by its snake_case path (<c>quantization.bits</c>), with the
/// kind of JSON scalar it takes. Values are checked for their type here; their range is the validator's (it depends on the
/// other fields: bits matter only for methods that quantize).
/// </summary>
/// <param name="Wide">An integer field of 64 bits (the seed); the others take 32-bit integers.</param>
public sealed record SweepField(string Path, SweepValueKind Kind, bool Nullable, bool Wide = false)
{
    /// <summary>The last part of the path: what a run's name calls the axis (<c>bits</c>).</summary>
    public string Label => Path[(Path.LastIndexOf('.') + 1)..];

    /// <summary>The values the field takes, in words: "a whole number or null".</summary>
    public string Takes => Kind switch
    {
        SweepValueKind.Integer => "a whole number",
        SweepValueKind.Number => "a number",
        SweepValueKind.Boolean => "true or false",
        _ => "a string",
    } + (Nullable ? " or null" : "");

    /// <summary>Null when the JSON value fits the field; otherwise what is wrong, naming the field.</summary>
    public string? Check(JsonElement value)
    {
        var fits = value.ValueKind switch
        {
            JsonValueKind.Null => Nullable,
            JsonValueKind.Number => Kind switch
            {
                SweepValueKind.Integer => IsInteger(value),
                SweepValueKind.Number => true,
                _ => false,
            },
            JsonValueKind.True or JsonValueKind.False => Kind == SweepValueKind.Boolean,
            JsonValueKind.String => Kind == SweepValueKind.Text,
            _ => false,
        };
        if (fits)
            return null;
        return value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
            ? $"{Path} takes {Takes}, not {(value.ValueKind == JsonValueKind.Object ? "an object" : "a list")}"
            : $"{Path} takes {Takes}; {value.GetRawText()} is not one";
    }

    /// <summary>
    /// A value typed as text (the CLI's <c>--axis</c>, the form): read as the field's kind, so <c>4</c> is the number 4 for
    /// <c>quantization.bits</c> and <c>null</c> is null where the field allows it. Null error on success.
    /// </summary>
    public (JsonElement Value, string? Error) FromText(string text)
    {
        var t = text.Trim();
        if (Nullable && t == "null")
            return (JsonSerializer.SerializeToElement<object?>(null), null);
        switch (Kind)
        {
            case SweepValueKind.Integer:
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && (Wide || l is >= int.MinValue and <= int.MaxValue))
                    return (JsonSerializer.SerializeToElement(l), null);
                break;
            case SweepValueKind.Number:
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                    return (JsonSerializer.SerializeToElement(d), null);
                break;
            case SweepValueKind.Boolean:
                if (t is "true" or "false")
                    return (JsonSerializer.SerializeToElement(t == "true"), null);
                break;
            default:
                return (JsonSerializer.SerializeToElement(t), null);
        }
        return (default, $"{Path} takes {Takes}; '{t}' is not one");
    }

    private bool IsInteger(JsonElement value) => Wide ? value.TryGetInt64(out _) : value.TryGetInt32(out _);
}

/// <summary>
/// The fields a sweep can vary: every scalar field of <see cref="ExperimentSpec"/> (read from the spec's own types, so a field
/// added to the spec is sweepable at once) except the run's name, which a sweep sets from the axis values.
/// </summary>
public static class SweepFields
{
    public static IReadOnlyList<SweepField> All { get; } = Collect(typeof(ExperimentSpec), "").ToList();

    private static readonly Dictionary<string, SweepField> ByPath = All.ToDictionary(f => f.Path, StringComparer.Ordinal);

    public static SweepField? Find(string path) => ByPath.GetValueOrDefault(path);

    /// <summary>Why a path is not sweepable, with the nearest fields that are.</summary>
    public static string Unknown(string path)
    {
        if (path == "name")
            return "the name is not sweepable: each run is named after its axis values";
        var section = All.Where(f => f.Path.StartsWith(path + ".", StringComparison.Ordinal)).Select(f => f.Path).ToList();
        if (section.Count > 0)
            return $"'{path}' is a section, not a field; sweep one of its fields: {string.Join(", ", section)}";
        var label = path[(path.LastIndexOf('.') + 1)..];
        // The same last part elsewhere (bits), a misspelling of one (bitz), or a longer name holding it (activation_bits).
        var alike = All.Select(f => (f.Path, Rank: f.Label == label ? 0
                    : label.Length >= 4 && EditDistance(label, f.Label) <= 2 ? 1
                    : label.Length >= 3 && f.Label.Contains(label, StringComparison.Ordinal) ? 2
                    : int.MaxValue))
            .Where(c => c.Rank != int.MaxValue).OrderBy(c => c.Rank).Take(3).Select(c => c.Path).ToList();
        return alike.Count > 0
            ? $"unknown field '{path}'; did you mean {string.Join(" or ", alike)}?"
            : $"unknown field '{path}'; the sweepable fields are listed in docs/sweeps.md and at GET /api/sweeps/fields";
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static IEnumerable<SweepField> Collect(Type type, string prefix)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is null || p.GetIndexParameters().Length > 0)
                continue;
            var path = prefix + JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);
            if (path == "name")
                continue;
            var underlying = System.Nullable.GetUnderlyingType(p.PropertyType);
            var t = underlying ?? p.PropertyType;
            SweepValueKind? kind = t == typeof(int) || t == typeof(long) ? SweepValueKind.Integer
                : t == typeof(double) ? SweepValueKind.Number
                : t == typeof(bool) ? SweepValueKind.Boolean
                : t == typeof(string) ? SweepValueKind.Text
                : null;
            if (kind is { } k)
            {
                var nullable = underlying is not null || (t == typeof(string) && nullability.Create(p).WriteState == NullabilityState.Nullable);
                yield return new SweepField(path, k, nullable, t == typeof(long));
            }
            else if (t.IsClass && t.Namespace == typeof(ExperimentSpec).Namespace)
            {
                foreach (var f in Collect(t, path + "."))
                    yield return f;
            }
        }
    }
}
