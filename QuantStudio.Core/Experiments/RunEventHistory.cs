namespace QuantStudio.Core.Experiments;

/// <summary>
/// Reads a run's stored events (metrics.jsonl, the web app's store) across the attempts of a resumed run. An attempt
/// killed mid-epoch has reported steps that its checkpoint does not hold; the next attempt starts with
/// <see cref="RunStarted"/> and <see cref="RunResumed"/>, goes back to the checkpoint's step and reports those steps
/// again. Its figures supersede the earlier ones.
/// </summary>
public static class RunEventHistory
{
    /// <summary>
    /// The events without the training figures (step and epoch metrics, layer snapshots, compression reports, training
    /// checkpoints) that a later attempt superseded: those an earlier attempt reported in the resumed stage after the
    /// resume's step, or in a later stage. What remains counts each step and each epoch once.
    /// </summary>
    public static IReadOnlyList<RunEvent> Current(IEnumerable<RunEvent> events)
    {
        var kept = new List<(RunEvent Event, string Stage, long Step)>();
        string stage = "";
        long step = 0;
        foreach (var e in events)
        {
            switch (e)
            {
                case RunResumed r:
                    kept.RemoveAll(k => IsTrainingFigure(k.Event) && Superseded(k.Stage, k.Step, r));
                    stage = r.Stage;
                    step = r.Step;
                    break;
                case PhaseStarted p:
                    if (p.Stage != stage)
                        step = 0;
                    stage = p.Stage;
                    break;
                case StepMetrics m:
                    step = m.Step;
                    break;
            }
            kept.Add((e, stage, step));
        }
        return kept.Select(k => k.Event).ToList();
    }

    private static bool IsTrainingFigure(RunEvent e) =>
        e is StepMetrics or EpochMetrics or LayerSnapshot or CompressionReport or CheckpointSaved { Kind: "training" };

    /// <summary>An empty stage (no checkpoint: the attempt started over) supersedes everything; a stage not known (older files) is compared by step.</summary>
    private static bool Superseded(string stage, long step, RunResumed r) =>
        r.Stage.Length == 0
        || (stage == r.Stage || stage.Length == 0) && step > r.Step
        || Order(stage) > Order(r.Stage);

    private static int Order(string stage) => stage switch
    {
        "teacher" => 0,
        "student" => 1,
        _ => -1,
    };
}
