namespace QuantStudio.Web.Runs;

/// <summary>
/// The rule that keeps a fast run from flooding browsers: a step_metrics event is forwarded when it is
/// the first of its phase or at least 1/<c>perSecond</c> seconds (by the event's own time stamp) after
/// the last forwarded one; every other event (epoch metrics, layer snapshots, compression reports,
/// logs, terminal events) is always forwarded. Because it uses the events' times, a page replaying
/// history keeps the same points as a page that watched live.
/// </summary>
public sealed class StepMetricsThinning(double perSecond)
{
    private readonly TimeSpan interval = perSecond > 0 ? TimeSpan.FromSeconds(1 / perSecond) : TimeSpan.Zero;
    private DateTimeOffset? lastKept;
    private string? lastPhase;

    public bool Keep(StoredEvent e)
    {
        if (e.Type != RunEventJson.StepMetrics)
            return true;
        var phase = e.Payload.TryGetProperty("phase", out var p) ? p.GetString() : null;
        if (lastKept is { } t && phase == lastPhase && e.Time - t < interval)
            return false;
        lastKept = e.Time;
        lastPhase = phase;
        return true;
    }
}
