using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>One stored run. <see cref="Summary"/> fills in while it trains (accuracy, sizes, ratio) and is completed by RunFinished.</summary>
public sealed record RunRecord(
    long Id,
    string Name,
    RunStatus Status,
    string SpecJson,
    string Method,
    string Dataset,
    int? Bits,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, double> Summary,
    string? LastError,
    bool Resume,
    long? SweepId = null)
{
    /// <summary>The stored spec; specs are validated before they are stored, so this only fails on a hand-edited database.</summary>
    public ExperimentSpec? TryReadSpec()
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<ExperimentSpec>(SpecJson, QuantStudio.Core.Experiments.SpecJson.Options);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public double? Value(string key) => Summary.TryGetValue(key, out var v) ? v : null;

    /// <summary>Final student accuracy when known, else the last validation accuracy.</summary>
    public double? Accuracy => Value("student_accuracy") ?? Value("val_accuracy");
    public double? Perplexity => Value("student_perplexity") ?? Value("val_perplexity");
    public double? PackedBytes => Value("packed_bytes");
    public double? Fp32Bytes => Value("fp32_bytes");
    public double? CompressionRatio => Value("compression_ratio");
}

/// <summary>What a new run is stored with.</summary>
public sealed record NewRun(string Name, ExperimentSpec Spec, DateTimeOffset CreatedAt);

/// <summary>
/// One stored sweep: the base spec and its axes (a JSON array of <c>{"path": "quantization.bits", "values": [2, 4]}</c>),
/// which expand into its runs (each run carries the sweep's id).
/// </summary>
public sealed record SweepRecord(long Id, string Name, string SpecJson, string AxesJson, DateTimeOffset CreatedAt);

/// <summary>What a new sweep is stored with; its runs are stored with it, in the same transaction.</summary>
public sealed record NewSweep(string Name, string SpecJson, string AxesJson, DateTimeOffset CreatedAt);
