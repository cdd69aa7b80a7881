using System.Text.Json;
using System.Text.Json.Serialization;

namespace QuantStudio.Core.Experiments;

/// <summary>Reads and writes <see cref="ExperimentSpec"/> as snake_case JSON, with errors that name the field.</summary>
public static class SpecJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Parses and validates; throws <see cref="SpecValidationException"/> listing every problem.</summary>
    public static ExperimentSpec Parse(string json)
    {
        ExperimentSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<ExperimentSpec>(json, Options);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "spec" : ex.Path.TrimStart('$', '.');
            throw new SpecValidationException([new SpecError(field, Describe(ex))]);
        }
        if (spec is null)
            throw new SpecValidationException([new SpecError("spec", "the spec is empty (expected a JSON object)")]);
        var errors = SpecValidator.Validate(spec);
        if (errors.Count > 0)
            throw new SpecValidationException(errors);
        return spec;
    }

    public static string Write(ExperimentSpec spec) => JsonSerializer.Serialize(spec, Options);

    private static string Describe(JsonException ex)
    {
        var msg = JsonErrorText.Describe(ex);
        return msg.Contains("could not be mapped", StringComparison.Ordinal)
            ? "unknown field (see docs/experiment-spec.md for the fields a spec may have)"
            : "malformed JSON or a value of the wrong type: " + msg;
    }
}

/// <summary>One problem in a spec: the dotted field name and what is allowed.</summary>
public sealed record SpecError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

public sealed class SpecValidationException(IReadOnlyList<SpecError> errors)
    : Exception("invalid experiment spec: " + string.Join("; ", errors))
{
    public IReadOnlyList<SpecError> Errors { get; } = errors;
}
