using QuantStudio.Core.Experiments;
using QuantStudio.Web.Components.Charts;

namespace QuantStudio.Web.Components.Runs;

/// <summary>
/// The training charts of a run page: loss, accuracy (or perplexity) and learning-rate series with the phase markers,
/// folded from the run's phase, step and epoch events. A resumed run reports again the steps its killed attempt reported
/// after its last checkpoint; on <see cref="RunResumed"/> the charts are folded again from what
/// <see cref="RunEventHistory.Current"/> keeps, so each step and each epoch is drawn once, with the newest figures. To do
/// that the charts keep the events they are built from (step metrics without their loss parts).
/// </summary>
public sealed class RunCharts
{
    private static readonly IReadOnlyDictionary<string, double> NoLossParts = new Dictionary<string, double>();

    private List<RunEvent> events = [];
    private readonly List<Phase> phases = [];
    private double stepX;
    private double stepOffset;
    private int epochIndex;
    private bool resuming;

    public ChartSeries TrainLoss { get; } = new("train loss (step)");
    public ChartSeries ValLoss { get; } = new("val loss (epoch)") { ShowMarkers = true };
    public ChartSeries LearningRate { get; } = new("learning rate");
    public ChartSeries TrainAccuracy { get; } = new("train accuracy") { ShowMarkers = true };
    public ChartSeries ValAccuracy { get; } = new("val accuracy") { ShowMarkers = true };
    public ChartSeries ValPerplexity { get; } = new("val perplexity") { ShowMarkers = true };

    public IReadOnlyList<PhaseMarker> StepPhases { get; private set; } = [];
    public IReadOnlyList<PhaseMarker> EpochPhases { get; private set; } = [];

    /// <summary>Times the charts were folded again for a resume.</summary>
    public int Refolds { get; private set; }

    private IEnumerable<ChartSeries> AllSeries => [TrainLoss, ValLoss, LearningRate, TrainAccuracy, ValAccuracy, ValPerplexity];

    /// <summary>Takes one event in order; events the charts do not draw are ignored.</summary>
    public void Apply(RunEvent e)
    {
        switch (e)
        {
            case PhaseStarted or EpochMetrics:
                events.Add(e);
                Fold(e);
                break;
            case StepMetrics m:
                var kept = m.LossParts.Count == 0 ? m : m with { LossParts = NoLossParts };
                events.Add(kept);
                Fold(kept);
                break;
            case RunResumed:
                events.Add(e);
                events = RunEventHistory.Current(events).ToList();
                Refold();
                break;
        }
    }

    private void Refold()
    {
        foreach (var s in AllSeries)
            s.Clear();
        phases.Clear();
        stepX = 0;
        stepOffset = 0;
        epochIndex = 0;
        resuming = false;
        foreach (var e in events)
            Fold(e);
        Refolds++;
    }

    private void Fold(RunEvent e)
    {
        switch (e)
        {
            case PhaseStarted p:
                // A resumed attempt announces again the phase it continues: its marker is already there.
                if (resuming && phases.Count > 0 && phases[^1].Stage == p.Stage && phases[^1].Index == p.Index)
                    break;
                phases.Add(new Phase(new PhaseMarker(stepX, p.Name), new PhaseMarker(epochIndex + 0.5, p.Name), p.Stage, p.Index));
                PublishPhases();
                break;
            case StepMetrics m:
                resuming = false;
                // One step axis across phases: a phase that counts its steps from 0 again continues after the last one.
                var x = m.Step + stepOffset;
                if (x <= stepX && TrainLoss.Offered > 0)
                {
                    stepOffset = stepX - m.Step + 1;
                    x = stepX + 1;
                }
                stepX = x;
                TrainLoss.Add(x, m.Loss);
                LearningRate.Add(x, m.LearningRate);
                break;
            case EpochMetrics m:
                epochIndex++;
                ValLoss.Add(stepX, m.ValLoss);
                if (m.ValPerplexity is { } ppl)
                    ValPerplexity.Add(epochIndex, ppl);
                if (m.TrainAccuracy is { } ta)
                    TrainAccuracy.Add(epochIndex, ta);
                if (m.ValAccuracy is { } va)
                    ValAccuracy.Add(epochIndex, va);
                break;
            case RunResumed:
                // The superseded figures are gone; phases the killed attempt started after the resume point go with them.
                resuming = true;
                if (phases.RemoveAll(p => p.OnSteps.X >= stepX && p.OnEpochs.X > epochIndex) > 0)
                    PublishPhases();
                break;
        }
    }

    private void PublishPhases()
    {
        StepPhases = phases.Select(p => p.OnSteps).ToList();
        EpochPhases = phases.Select(p => p.OnEpochs).ToList();
    }

    private sealed record Phase(PhaseMarker OnSteps, PhaseMarker OnEpochs, string Stage, int Index);
}
