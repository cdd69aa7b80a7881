namespace QuantStudio.Core.Sweeps;

/// <summary>A run placed by its packed size (smaller is better) and its score (higher is better, or lower for perplexity).</summary>
public sealed record SizeScorePoint(long RunId, string Label, double Size, double Score, string Method, int? Bits, int? BucketSize);

/// <summary>
/// The runs no other run beats on both size and score: a point is dominated when another is at most as large and at least
/// as good, and strictly better in one of the two.
/// </summary>
public static class ParetoFrontier
{
    public static IReadOnlySet<long> Of(IReadOnlyList<SizeScorePoint> points, bool higherIsBetter = true)
    {
        double Good(SizeScorePoint p) => higherIsBetter ? p.Score : -p.Score;
        var frontier = new HashSet<long>();
        foreach (var p in points)
        {
            var dominated = points.Any(q => q.RunId != p.RunId && q.Size <= p.Size && Good(q) >= Good(p) && (q.Size < p.Size || Good(q) > Good(p)));
            if (!dominated)
                frontier.Add(p.RunId);
        }
        return frontier;
    }
}
