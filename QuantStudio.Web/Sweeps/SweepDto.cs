using System.Text.Json;
using QuantStudio.Core.Sweeps;

namespace QuantStudio.Web.Sweeps;

/// <summary>A sweep as GET /api/sweeps/{id} and POST /api/sweeps answer it.</summary>
/// <param name="Frontier">The finished runs no other beats on both packed size and score.</param>
/// <param name="Score"><c>accuracy</c> (higher is better) or <c>perplexity</c> (lower is better).</param>
public sealed record SweepDto(
    long Id,
    string Name,
    DateTimeOffset CreatedAt,
    JsonElement Spec,
    IReadOnlyList<SweepAxis> Axes,
    IReadOnlyList<long> RunIds,
    IReadOnlyList<SweepRunDto> Runs,
    IReadOnlyList<long> Frontier,
    string Score,
    int Ended,
    bool HasEnded)
{
    public static SweepDto From(SweepView v)
    {
        using var spec = JsonDocument.Parse(v.Sweep.SpecJson);
        return new SweepDto(v.Sweep.Id, v.Sweep.Name, v.Sweep.CreatedAt, spec.RootElement.Clone(), v.Axes, v.Runs.Select(r => r.Id).ToList(),
            v.Runs.Select(r => SweepRunDto.From(r, v)).ToList(), v.Frontier.Ids.Order().ToList(), v.Frontier.Perplexity ? "perplexity" : "accuracy",
            v.Ended, v.HasEnded);
    }
}

/// <summary>One run of a sweep: its axis values by path, its figures, and whether it is on the frontier.</summary>
public sealed record SweepRunDto(
    long Id,
    string Name,
    string Status,
    IReadOnlyDictionary<string, JsonElement?> Values,
    double? Accuracy,
    double? Perplexity,
    double? PackedBytes,
    double? CompressionRatio,
    bool OnFrontier)
{
    public static SweepRunDto From(SweepRunOutcome r, SweepView v) =>
        new(r.Id, r.Name, r.Status.ToName(), v.Axes.Select((a, i) => (a.Path, r.Values[i])).ToDictionary(p => p.Path, p => p.Item2),
            r.Accuracy, r.Perplexity, r.PackedBytes, r.CompressionRatio, v.Frontier.Ids.Contains(r.Id));
}

/// <summary>A sweep in the list (GET /api/sweeps): how far its runs have got, by status.</summary>
public sealed record SweepSummaryDto(long Id, string Name, DateTimeOffset CreatedAt, IReadOnlyList<SweepAxis> Axes, int Runs, int Ended,
    IReadOnlyDictionary<string, int> Statuses)
{
    public static SweepSummaryDto From(SweepView v) =>
        new(v.Sweep.Id, v.Sweep.Name, v.Sweep.CreatedAt, v.Axes, v.Runs.Count, v.Ended,
            v.Runs.GroupBy(r => r.Status.ToName()).ToDictionary(g => g.Key, g => g.Count()));
}

/// <summary>A field a sweep can vary (GET /api/sweeps/fields).</summary>
public sealed record SweepFieldDto(string Path, string Takes);
