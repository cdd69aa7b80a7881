using System.Text.Json;

namespace QuantStudio.Core.Sweeps;

/// <summary>
/// One axis of a sweep: a spec field by its snake_case path and the values it takes, as JSON scalars
/// (<c>{"path": "quantization.bits", "values": [2, 4, 8]}</c>).
/// </summary>
public sealed record SweepAxis(string Path, IReadOnlyList<JsonElement> Values)
{
    /// <summary>
    /// An axis typed as text, <c>quantization.bits=2,4,8</c> (the CLI's <c>--axis</c>): the values are read as the field's
    /// kind. Null axis and the problem when the text does not make one.
    /// </summary>
    public static (SweepAxis? Axis, string? Error) Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0)
            return (null, $"'{text}' is not an axis; write it as path=value,value (quantization.bits=2,4,8)");
        return FromText(text[..eq].Trim(), text[(eq + 1)..]);
    }

    /// <summary>An axis from a field path and comma-separated values typed as text (the form's axis row).</summary>
    public static (SweepAxis? Axis, string? Error) FromText(string path, string values)
    {
        if (SweepFields.Find(path) is not { } field)
            return (null, SweepFields.Unknown(path));
        if (string.IsNullOrWhiteSpace(values))
            return (null, $"{path}: give one value or more, separated by commas");
        var parsed = new List<JsonElement>();
        foreach (var part in values.Split(','))
        {
            if (string.IsNullOrWhiteSpace(part))
                return (null, $"{path}: an empty value between commas in '{values.Trim()}'");
            var (value, error) = field.FromText(part);
            if (error is not null)
                return (null, error);
            parsed.Add(value);
        }
        return (new SweepAxis(path, parsed), null);
    }

    /// <summary>A value as a run's name and the tables show it: the JSON text, strings without their quotes.</summary>
    public static string Format(JsonElement? value) => value switch
    {
        null => "null",
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        { } v => v.GetRawText(),
    };

    /// <summary>The axes as stored with a sweep: <c>[{"path": …, "values": […]}]</c>.</summary>
    public static string WriteAll(IReadOnlyList<SweepAxis> axes) => JsonSerializer.Serialize(axes, JsonOptions);

    /// <summary>Reads stored axes back; empty for text that does not hold them.</summary>
    public static IReadOnlyList<SweepAxis> ReadAll(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<List<SweepAxis>>(json, JsonOptions) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
