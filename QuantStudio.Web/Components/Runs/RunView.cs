using QuantStudio.Core.Experiments;
using QuantStudio.Web.Components.Charts;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Components.Runs;

/// <summary>
/// What the run page shows, built from the run's events in order: the training charts (<see cref="RunCharts"/>), the
/// latest snapshot of each layer, the latest compression report, the log and the files saved. The page feeds it the stored events and then the live ones; it holds no reference to the page.
/// </summary>
public sealed class RunView
{
    /// <summary>Log lines kept for the page (the store has them all).</summary>
    public const int MaxLogLines = 500;

    private readonly Dictionary<string, LayerSnapshot> layers = [];
    private readonly List<string> layerOrder = [];
    private readonly List<RunLogLine> log = [];
    private readonly SortedDictionary<string, long> files = new(StringComparer.Ordinal);

    /// <summary>The training charts (a resume redraws them from the run's current history).</summary>
    public RunCharts Charts { get; } = new();

    public ChartSeries TrainLoss => Charts.TrainLoss;
    public ChartSeries ValLoss => Charts.ValLoss;
    public ChartSeries LearningRate => Charts.LearningRate;
    public ChartSeries TrainAccuracy => Charts.TrainAccuracy;
    public ChartSeries ValAccuracy => Charts.ValAccuracy;
    public ChartSeries ValPerplexity => Charts.ValPerplexity;

    public IReadOnlyList<ChartSeries> LossSeries => [TrainLoss, ValLoss];
    public IReadOnlyList<ChartSeries> LearningRateSeries => [LearningRate];
    public IReadOnlyList<ChartSeries> QualitySeries => HasPerplexity ? [ValPerplexity] : [TrainAccuracy, ValAccuracy];

    /// <summary>The run reports perplexity (a language model), not accuracy.</summary>
    public bool HasPerplexity => ValPerplexity.Offered > 0;

    public IReadOnlyList<PhaseMarker> StepPhases => Charts.StepPhases;
    public IReadOnlyList<PhaseMarker> EpochPhases => Charts.EpochPhases;

    /// <summary>The latest snapshot of each layer, in the order the layers first appeared.</summary>
    public IReadOnlyList<LayerSnapshot> Layers => layerOrder.Select(l => layers[l]).ToList();

    public LayerSnapshot? Layer(string? name) => name is not null && layers.TryGetValue(name, out var s) ? s : null;

    public CompressionReport? Compression { get; private set; }
    public IReadOnlyList<RunLogLine> Log => log;

    /// <summary>Files the run said it saved, by name, with their size when saved.</summary>
    public IReadOnlyDictionary<string, long> SavedFiles => files;

    /// <summary>The status the events tell (running after run_started; the terminal event's), or null before any.</summary>
    public RunStatus? Status { get; private set; }

    public long LastSeq { get; private set; }
    public long EventCount { get; private set; }

    public void Apply(RunEvent e)
    {
        if (e.Seq > 0 && e.Seq <= LastSeq)
            return; // a replayed event already applied
        LastSeq = Math.Max(LastSeq, e.Seq);
        EventCount++;
        Charts.Apply(e);
        switch (e)
        {
            case RunStarted:
                Status = RunStatus.Running;
                break;
            case LayerSnapshot s:
                if (!layers.ContainsKey(s.Layer))
                    layerOrder.Add(s.Layer);
                layers[s.Layer] = s;
                break;
            case CompressionReport c:
                Compression = c;
                break;
            case CheckpointSaved c:
                files[Path.GetFileName(c.File)] = c.Bytes;
                break;
            case RunFinished:
                Status = RunStatus.Finished;
                break;
            case RunFailed:
                Status = RunStatus.Failed;
                break;
            case RunCancelled:
                Status = RunStatus.Cancelled;
                break;
        }
        if (RunLogLine.Of(e) is { } line)
        {
            log.Add(line);
            if (log.Count > MaxLogLines)
                log.RemoveRange(0, log.Count - MaxLogLines);
        }
    }
}
