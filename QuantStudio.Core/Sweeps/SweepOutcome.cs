using System.Text.Json;
using QuantStudio.Core.Runs;

namespace QuantStudio.Core.Sweeps;

/// <summary>Where one run of a sweep stands: its status, its axis values (in axis order) and the figures it has reached.</summary>
public sealed record SweepRunOutcome(
    long Id,
    string Name,
    RunStatus Status,
    IReadOnlyList<JsonElement?> Values,
    double? Accuracy,
    double? Perplexity,
    double? PackedBytes,
    double? CompressionRatio,
    string Method,
    int? Bits,
    int? BucketSize)
{
    /// <summary>A stored run of the sweep; its axis values are read from its spec.</summary>
    public static SweepRunOutcome From(RunRecord run, IReadOnlyList<SweepAxis> axes)
    {
        var spec = run.TryReadSpec();
        return new SweepRunOutcome(run.Id, run.Name, run.Status,
            axes.Select(a => spec is null ? null : SweepExpander.ValueAt(spec, a.Path)).ToList(),
            run.Accuracy, run.Perplexity, run.PackedBytes, run.CompressionRatio, run.Method, run.Bits, spec?.Quantization.BucketSize);
    }

    /// <summary>A finished run has its final figures; only those are placed against each other.</summary>
    public bool HasEnded => !Status.IsActive();
}

/// <summary>
/// The sweep's Pareto frontier: among its finished runs with a packed size and a score, those no other beats on both (see
/// <see cref="ParetoFrontier"/>). The score is test accuracy (higher is better), or perplexity (lower is better) when no
/// finished run has an accuracy (language models).
/// </summary>
public sealed record SweepFrontier(IReadOnlySet<long> Ids, bool Perplexity, IReadOnlyList<SizeScorePoint> Points)
{
    public static SweepFrontier Of(IReadOnlyList<SweepRunOutcome> runs)
    {
        var finished = runs.Where(r => r.Status == RunStatus.Finished && r.PackedBytes is not null).ToList();
        var perplexity = !finished.Any(r => r.Accuracy is not null) && finished.Any(r => r.Perplexity is not null);
        var points = finished.Where(r => (perplexity ? r.Perplexity : r.Accuracy) is not null)
            .Select(r => new SizeScorePoint(r.Id, $"#{r.Id}", r.PackedBytes!.Value, (perplexity ? r.Perplexity : r.Accuracy)!.Value,
                r.Method, r.Bits, r.BucketSize))
            .ToList();
        return new SweepFrontier(ParetoFrontier.Of(points, higherIsBetter: !perplexity), perplexity, points);
    }

    /// <summary>Placed (finished, with a size and a score) but not on the frontier.</summary>
    public bool IsDominated(long id) => !Ids.Contains(id) && Points.Any(p => p.RunId == id);
}
