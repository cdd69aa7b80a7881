using System.Text.Json;
using System.Text.Json.Serialization;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;

namespace QuantStudio.Core.Checkpoints;

/// <summary>The JSON description inside a compressed checkpoint (snake_case; see docs/compressed-checkpoint-format.md).</summary>
internal sealed record CheckpointHeader
{
    public string? Arch { get; init; }
    public double Width { get; init; } = 1;
    public double Depth { get; init; } = 1;
    public InputJson? Input { get; init; }
    public string? Dataset { get; init; }
    public NormalizationJson? Normalization { get; init; }
    public QuantizationSpec? Quantization { get; init; }
    public string? Method { get; init; }
    public long? Seed { get; init; }
    public double? ValidationSplit { get; init; }

    /// <summary>Written by every writer since the field exists, null or not; absent in older files (<see cref="SubsetWritten"/>).</summary>
    public int? Subset
    {
        get => subset;
        init
        {
            subset = value;
            SubsetWritten = true;
        }
    }

    private readonly int? subset;

    [JsonIgnore]
    public bool SubsetWritten { get; private init; }

    public string? Vocabulary { get; init; }

    /// <summary>Left out when there are none, so the files of methods without activation quantization are as before.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<ActivationQuantizerJson>? ActivationQuantizers { get; init; }

    internal sealed record InputJson(int Channels, int Height, int Width, int Classes);

    internal sealed record NormalizationJson(float[] Mean, float[] Std);

    internal sealed record ActivationQuantizerJson(string? Layer, int? Bits, float? Step, bool? Signed);

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Nulls are written: a null bucket size means "whole tensor", not "the default".
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Floats are written with the shortest text that reads back to the same value.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static CheckpointHeader From(CompressedModelDescription d) => new()
    {
        Arch = d.Arch,
        Width = d.Width,
        Depth = d.Depth,
        Input = new InputJson(d.Input.Channels, d.Input.Height, d.Input.Width, d.Input.Classes),
        Dataset = d.Dataset,
        Normalization = d.Normalization is { } n ? new NormalizationJson([.. n.Mean], [.. n.Std]) : null,
        Quantization = d.Quantization,
        Method = d.Method,
        Seed = d.Seed,
        ValidationSplit = d.ValidationSplit,
        Subset = d.Subset,
        Vocabulary = d.Vocabulary,
        ActivationQuantizers = d.ActivationQuantizers.Count == 0 ? null : [.. d.ActivationQuantizers.Select(q => new ActivationQuantizerJson(q.Layer, q.Bits, q.Step, q.Signed))],
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    public static CheckpointHeader Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<CheckpointHeader>(utf8, Options)
                   ?? throw new CompressedCheckpointFormatException("header: the JSON description is null");
        }
        catch (JsonException e)
        {
            var field = JsonErrorText.Field(e) is { } f ? $"{f}: " : "";
            throw new CompressedCheckpointFormatException($"header: {field}the JSON description is malformed or holds a value of the wrong type ({JsonErrorText.Describe(e)})", e);
        }
    }

    /// <summary>The description, with every required field checked.</summary>
    public CompressedModelDescription ToDescription()
    {
        static CompressedCheckpointFormatException Missing(string field) => new($"header: field '{field}' is missing");
        if (string.IsNullOrEmpty(Arch))
            throw Missing("arch");
        var input = Input ?? throw Missing("input");
        if (string.IsNullOrEmpty(Dataset))
            throw Missing("dataset");
        if (string.IsNullOrEmpty(Method))
            throw Missing("method");
        var quantization = Quantization ?? throw Missing("quantization");
        // The spec's range: a file can declare any multiplier, and building a model a thousand times as wide would exhaust memory.
        if (Width is not (> 0 and <= ModelScaling.MaxMultiplier))
            throw new CompressedCheckpointFormatException($"header: width {Width} is out of range; allowed: (0, {ModelScaling.MaxMultiplier}]");
        if (Depth is not (> 0 and <= ModelScaling.MaxMultiplier))
            throw new CompressedCheckpointFormatException($"header: depth {Depth} is out of range; allowed: (0, {ModelScaling.MaxMultiplier}]");
        if (Subset is < 1)
            throw new CompressedCheckpointFormatException($"header: subset {Subset} is out of range; allowed: 1 or more, or null");
        Normalization? normalization = null;
        if (Normalization is { } n)
        {
            try
            {
                normalization = new Normalization(n.Mean ?? [], n.Std ?? []);
            }
            catch (ArgumentException e)
            {
                throw new CompressedCheckpointFormatException($"header: normalization: {e.Message}", e);
            }
        }
        return new CompressedModelDescription(Arch, Width, Depth, new InputShape(input.Channels, input.Height, input.Width, input.Classes),
            Dataset, normalization, quantization, Method)
        {
            Seed = Seed,
            ValidationSplit = ValidationSplit,
            Subset = Subset,
            SubsetRecorded = SubsetWritten,
            Vocabulary = Vocabulary,
            ActivationQuantizers = ReadActivationQuantizers(),
        };
    }

    /// <summary>Absent (files written before the field, or without activation quantization), null and [] all mean none.</summary>
    private List<ActivationQuantizer> ReadActivationQuantizers()
    {
        var list = new List<ActivationQuantizer>();
        var entries = ActivationQuantizers ?? [];
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i] ?? throw new CompressedCheckpointFormatException($"header: activation_quantizers[{i}] is null");
            CompressedCheckpointFormatException Missing(string field) => new($"header: field 'activation_quantizers[{i}].{field}' is missing");
            list.Add(new ActivationQuantizer(e.Layer ?? throw Missing("layer"), e.Bits ?? throw Missing("bits"), e.Step ?? throw Missing("step"),
                e.Signed ?? throw Missing("signed")));
        }
        var problems = ActivationQuantizer.Problems(list);
        if (problems.Count > 0)
            throw new CompressedCheckpointFormatException($"header: {string.Join("; ", problems)}");
        return list;
    }
}
