using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Api;

/// <summary>A run as the API, the hub and the runs table show it (<c>sweep_id</c>: the sweep that made it, if any).</summary>
public sealed record RunDto(
    long Id,
    string Name,
    string Status,
    string Method,
    string Dataset,
    int? Bits,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? Accuracy,
    double? Perplexity,
    double? Fp32Bytes,
    double? PackedBytes,
    double? CompressionRatio,
    string? LastError,
    IReadOnlyDictionary<string, double> Summary,
    long? SweepId)
{
    public static RunDto From(RunRecord r) => new(r.Id, r.Name, r.Status.ToName(), r.Method, r.Dataset, r.Bits, r.CreatedAt, r.StartedAt,
        r.FinishedAt, r.Accuracy, r.Perplexity, r.Fp32Bytes, r.PackedBytes, r.CompressionRatio, r.LastError, r.Summary, r.SweepId);
}

/// <summary>A run with its spec (GET /api/runs/{id}).</summary>
public sealed record RunDetailDto(RunDto Run, System.Text.Json.JsonElement Spec, long LastSeq, IReadOnlyList<ArtifactDto> Artifacts);

public sealed record ArtifactDto(string Name, long Bytes, string Url);

/// <summary>One change to the run list: <c>upsert</c> with the run, or <c>deleted</c>.</summary>
public sealed record RunListChange(string Kind, long RunId, RunDto? Run);
