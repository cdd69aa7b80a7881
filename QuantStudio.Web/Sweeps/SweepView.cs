using QuantStudio.Core.Sweeps;

namespace QuantStudio.Web.Sweeps;

/// <summary>A stored sweep with its runs as they stand and its Pareto frontier: what the sweep page and the API show.</summary>
public sealed record SweepView(SweepRecord Sweep, IReadOnlyList<SweepAxis> Axes, IReadOnlyList<RunRecord> Records,
    IReadOnlyList<SweepRunOutcome> Runs, SweepFrontier Frontier)
{
    public static SweepView From(SweepRecord sweep, IReadOnlyList<RunRecord> runs)
    {
        var axes = SweepAxis.ReadAll(sweep.AxesJson);
        var outcomes = runs.Select(r => SweepRunOutcome.From(r, axes)).ToList();
        return new SweepView(sweep, axes, runs, outcomes, SweepFrontier.Of(outcomes));
    }

    /// <summary>Runs that have ended (finished, failed, cancelled or interrupted).</summary>
    public int Ended => Runs.Count(r => r.HasEnded);

    public bool HasEnded => Runs.All(r => r.HasEnded);
}
