using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Core.Training.Optim;
using TorchSharp;

namespace QuantStudio.Tests.Training;

/// <summary>
/// QKD's three phases share one learning-rate schedule: each phase builds fresh optimizers, but its schedule
/// enters the run's cosine where the previous phase left it instead of restarting at the peak.
/// </summary>
[Collection(TrainingCollection.Name)]
public class QkdScheduleTests
{
    private const double Peak = 0.05;

    /// <summary>The half cosine from the peak to zero over <paramref name="total"/> steps, written out by hand.</summary>
    private static double Cosine(long step, long total) => Peak * (1 + Math.Cos(Math.PI * step / total)) / 2;

    [Fact]
    public void Phases_with_windows_follow_one_cosine_over_all_their_steps()
    {
        using var scope = torch.NewDisposeScope();
        var spec = new OptimizerSpec { Name = "sgd", Lr = Peak, Schedule = "cosine" };
        int[] phaseEpochs = [2, 1, 3];
        const int stepsPerEpoch = 5;
        var total = phaseEpochs.Sum() * stepsPerEpoch;
        var lrs = new List<double>();
        var first = 0;
        foreach (var epochs in phaseEpochs)
        {
            // A fresh optimizer per phase, as the trainer builds them.
            using var optimizer = OptimizerFactory.Create(spec, [new ParamGroupSpec([torch.zeros([1], requires_grad: true)])]);
            var schedule = OptimizerFactory.CreateSchedule(spec, optimizer, phaseEpochs.Sum(), stepsPerEpoch, first);
            for (var s = 0; s < epochs * stepsPerEpoch; s++)
            {
                lrs.Add(optimizer.param_groups[0].lr);
                schedule.step();
            }
            first += epochs;
        }
        Assert.Equal(total, lrs.Count);
        for (var g = 0; g < total; g++)
            Assert.True(Math.Abs(Cosine(g, total) - lrs[g]) < 1e-15, $"step {g}: expected {Cosine(g, total)}, got {lrs[g]}");
        // No restart: the lr never rises from one step to the next.
        Assert.All(lrs.Zip(lrs.Skip(1)), p => Assert.True(p.Second <= p.First));
    }

    [Fact]
    public void A_window_after_a_warm_up_starts_past_it_and_a_restored_one_continues_exactly()
    {
        using var scope = torch.NewDisposeScope();
        var spec = new OptimizerSpec { Name = "sgd", Lr = Peak, Schedule = "cosine", WarmupEpochs = 1 };
        const int stepsPerEpoch = 4, epochs = 5;
        // The whole run's schedule, stepped from its start: the reference.
        using var whole = OptimizerFactory.Create(spec, [new ParamGroupSpec([torch.zeros([1], requires_grad: true)])]);
        var wholeSchedule = OptimizerFactory.CreateSchedule(spec, whole, epochs, stepsPerEpoch);
        var reference = new List<double>();
        for (var s = 0; s < epochs * stepsPerEpoch; s++)
        {
            reference.Add(whole.param_groups[0].lr);
            wholeSchedule.step();
        }
        // Warm-up from a third of the peak over the first epoch, then the cosine over the remaining 16 steps.
        Assert.Equal(Peak / 3, reference[0], 15);
        Assert.Equal(Peak, reference[stepsPerEpoch], 15);
        Assert.Equal(Peak * (1 + Math.Cos(Math.PI * 5 / 16)) / 2, reference[stepsPerEpoch + 5], 15);

        // A phase entering at epoch 2, stopped after 3 steps and restored into a new schedule.
        using var a = OptimizerFactory.Create(spec, [new ParamGroupSpec([torch.zeros([1], requires_grad: true)])]);
        var first = OptimizerFactory.CreateSchedule(spec, a, epochs, stepsPerEpoch, firstEpoch: 2);
        Assert.Equal(reference[8], a.param_groups[0].lr, 15);
        for (var s = 0; s < 3; s++)
            first.step();
        using var state = first.state_dict();
        using var b = OptimizerFactory.Create(spec, [new ParamGroupSpec([torch.zeros([1], requires_grad: true)])]);
        var restored = OptimizerFactory.CreateSchedule(spec, b, epochs, stepsPerEpoch, firstEpoch: 2);
        restored.load_state_dict(state);
        for (var g = 11; g < epochs * stepsPerEpoch; g++)
        {
            Assert.Equal(reference[g], b.param_groups[0].lr, 15);
            restored.step();
        }
    }

    [Fact]
    public void A_window_outside_the_schedule_is_refused()
    {
        using var scope = torch.NewDisposeScope();
        var spec = new OptimizerSpec { Name = "sgd", Lr = Peak };
        using var optimizer = OptimizerFactory.Create(spec, [new ParamGroupSpec([torch.zeros([1], requires_grad: true)])]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerFactory.CreateSchedule(spec, optimizer, 3, 10, firstEpoch: 3));
        Assert.Equal("firstEpoch", e.ParamName);
    }

    [Fact]
    public void A_qkd_run_ends_each_epoch_at_the_lr_of_one_cosine_over_its_student_epochs()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = TrainingRuns.Spec(Methods.Qkd) with { Qkd = new QkdSpec { SelfStudyingEpochs = 1, CoStudyingEpochs = 1, TutoringEpochs = 2 } };
        var events = TrainingRuns.Run(spec, dir);

        var student = events.OfType<EpochMetrics>().Where(m => m.Phase != "teacher").ToList();
        Assert.Equal(["self_studying", "co_studying", "tutoring", "tutoring"], student.Select(m => m.Phase));
        // After epoch k of 4 the schedule has taken k · steps-per-epoch steps of one cosine: the lr is the cosine at k/4,
        // also across the phase boundaries (a restart would put 0 at the end of each phase).
        foreach (var m in student)
            Assert.Equal(Cosine(m.Epoch, 4), m.LearningRate, 12);
        // Every step's lr, over the three phases, never rises.
        var steps = events.OfType<StepMetrics>().Where(s => s.Phase != "teacher").Select(s => s.LearningRate).ToList();
        Assert.All(steps.Zip(steps.Skip(1)), p => Assert.True(p.Second <= p.First, $"the lr rose from {p.First} to {p.Second}"));
    }
}
