using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Training;

/// <summary>metrics.jsonl of a run cancelled mid-epoch and resumed: attempts are marked, and no step counts twice.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ResumeMetricsTests
{
    private sealed class CancelAtStep(string phase, long step, CancellationTokenSource cts) : IRunEventSink
    {
        public void Emit(RunEvent e)
        {
            if (e is StepMetrics m && m.Phase == phase && m.Step == step)
                cts.Cancel();
        }
    }

    [Fact]
    public void A_resumed_qkd_run_marks_its_second_attempt_and_its_steps_and_epochs_add_up_to_an_uninterrupted_runs()
    {
        var spec = TrainingRuns.Spec(Methods.Qkd, epochs: 1);
        var straightDir = TrainingRuns.NewDirectory();
        TrainingRuns.Run(spec, straightDir);
        var straight = JsonlEventSink.Read(Path.Combine(straightDir, ExperimentRunner.MetricsFileName));

        var dir = TrainingRuns.NewDirectory();
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                TrainingRuns.Run(spec, dir, extra: new CancelAtStep("co_studying", 18, cts), ct: cts.Token));
        var firstAttempt = JsonlEventSink.Read(Path.Combine(dir, ExperimentRunner.MetricsFileName));
        TrainingRuns.Run(spec, dir, resume: true, lastSeq: firstAttempt[^1].Seq);
        var events = JsonlEventSink.Read(Path.Combine(dir, ExperimentRunner.MetricsFileName));

        // The second attempt says where it continues: after self-studying's last step, at co-studying's first epoch.
        Assert.Equal(2, events.OfType<RunStarted>().Count());
        var resumed = Assert.Single(events.OfType<RunResumed>());
        Assert.Equal(2, resumed.Attempt);
        Assert.Equal("student", resumed.Stage);
        Assert.Equal(1, resumed.Phase);
        Assert.Equal(0, resumed.Epoch);
        var selfStudyingSteps = straight.OfType<StepMetrics>().Count(m => m.Phase == "self_studying");
        Assert.Equal(selfStudyingSteps, resumed.Step);
        var afterResume = events.SkipWhile(e => e is not RunResumed).OfType<StepMetrics>().First();
        Assert.Equal(resumed.Step + 1, afterResume.Step);

        // Dropping the step metrics an attempt superseded (RunEventHistory) leaves each step once, as in the straight run.
        static (string, long)[] Steps(IEnumerable<RunEvent> e) =>
            RunEventHistory.Current(e).OfType<StepMetrics>().Select(m => (m.Phase, m.Step)).ToArray();
        Assert.True(events.OfType<StepMetrics>().Count() > straight.OfType<StepMetrics>().Count(), "the killed epoch's steps are in the file");
        Assert.Equal(Steps(straight), Steps(events));
        Assert.Equal(straight.OfType<EpochMetrics>().Select(m => (m.Phase, m.Epoch)), RunEventHistory.Current(events).OfType<EpochMetrics>().Select(m => (m.Phase, m.Epoch)));

        // The model's checkpoint event counts the run's epochs, not the attempt's.
        var model = events.OfType<CheckpointSaved>().Single(c => c.Kind == "model");
        Assert.Equal(3, model.Epoch);
        Assert.Equal(straight.OfType<CheckpointSaved>().Single(c => c.Kind == "model").Epoch, model.Epoch);
    }
}
