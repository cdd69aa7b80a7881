using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class ResumeTests
{
    /// <summary>Cancels the run when a given step of a given phase has been reported.</summary>
    private sealed class CancelAtStep(string phase, long step, CancellationTokenSource cts) : IRunEventSink
    {
        public void Emit(RunEvent e)
        {
            if (e is StepMetrics m && m.Phase == phase && m.Step == step)
                cts.Cancel();
        }
    }

    [Theory]
    [InlineData(Methods.QuantizedDistillation, "quantized_distillation", 15, "stochastic")]
    [InlineData(Methods.QuantizedDistillation, "quantized_distillation", 15, "deterministic")]
    [InlineData(Methods.QuantizedDistillation, "teacher", 17, "stochastic")]
    [InlineData(Methods.Qkd, "co_studying", 30, "deterministic")]
    public void A_run_cancelled_mid_epoch_and_resumed_ends_exactly_like_an_uninterrupted_one(string method, string phase, long step, string rounding)
    {
        var spec = TrainingRuns.Spec(method, epochs: 3) with
        {
            Quantization = TrainingRuns.Spec(method).Quantization with { Rounding = rounding },
            Qkd = new QkdSpec { SelfStudyingEpochs = 1, CoStudyingEpochs = 2, TutoringEpochs = 1 },
        };
        var straight = TrainingRuns.Run(spec, TrainingRuns.NewDirectory());

        var dir = TrainingRuns.NewDirectory();
        using var cts = new CancellationTokenSource();
        var first = new ListEventSink();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            TrainingRuns.Run(spec, dir, extra: new MultiSink(first, new CancelAtStep(phase, step, cts)), ct: cts.Token));
        Assert.IsType<RunCancelled>(first.Events[^1]);
        // The cancellation came mid-epoch: the last checkpoint is an earlier epoch's.
        Assert.True(File.Exists(Path.Combine(dir, TrainingCheckpoint.FileName)));

        var resumed = TrainingRuns.Run(spec, dir, resume: true, lastSeq: first.Events[^1].Seq);
        Assert.Contains(resumed, e => e is LogMessage l && l.Message.StartsWith("resuming", StringComparison.Ordinal));
        Assert.True(resumed[0].Seq == first.Events[^1].Seq + 1, "a resumed run continues the event numbering");

        var expected = straight.OfType<EpochMetrics>().Last();
        var actual = resumed.OfType<EpochMetrics>().Last();
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.ValLoss, actual.ValLoss);
        Assert.Equal(expected.ValAccuracy, actual.ValAccuracy);
        Assert.Equal(expected.TrainLoss, actual.TrainLoss);
        var a = (RunFinished)straight[^1];
        var b = (RunFinished)resumed[^1];
        Assert.Equal(a.Summary["student_accuracy"], b.Summary["student_accuracy"]);
        Assert.Equal(a.Summary["huffman_bytes"], b.Summary["huffman_bytes"]);
    }

    private sealed class MultiSink(params IRunEventSink[] sinks) : IRunEventSink
    {
        public void Emit(RunEvent e)
        {
            foreach (var s in sinks)
                s.Emit(e);
        }
    }

    [Fact]
    public void A_checkpoint_of_another_method_is_refused_with_a_clear_error()
    {
        var dir = TrainingRuns.NewDirectory();
        TrainingRuns.Run(TrainingRuns.Spec(Methods.FullPrecision), dir);
        var e = Assert.Throws<RunInputException>(() => TrainingRuns.Run(TrainingRuns.Spec(Methods.Qat), dir, resume: true));
        Assert.Contains("full_precision", e.Message);
        Assert.Contains("qat", e.Message);
    }
}
