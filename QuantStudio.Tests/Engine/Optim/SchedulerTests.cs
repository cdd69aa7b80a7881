using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

public class SchedulerTests
{
    /// <summary>The lr of group 0 right after construction and after each of <paramref name="steps"/> steps.</summary>
    private static List<double> Lrs(Optimizer optimizer, LRScheduler scheduler, int steps)
    {
        var lrs = new List<double> { optimizer.param_groups[0].lr };
        for (var i = 0; i < steps; i++)
        {
            scheduler.step();
            lrs.Add(optimizer.param_groups[0].lr);
            Assert.Equal(optimizer.param_groups[0].lr, scheduler.get_last_lr()[0]);
        }
        return lrs;
    }

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-15, $"epoch {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static SGD NewSgd(double lr = 0.1) => Optimizers.SGD([torch.zeros([1], requires_grad: true)], lr);

    [Fact]
    public void Step_lr_decays_by_gamma_every_step_size_epochs()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        var lrs = Lrs(optimizer, LRSchedules.StepLR(optimizer, step_size: 3, gamma: 0.5), 7);
        AssertClose([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], lrs);
    }

    [Fact]
    public void Multi_step_lr_decays_at_each_milestone_and_twice_at_a_repeated_one()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        var lrs = Lrs(optimizer, LRSchedules.MultiStepLR(optimizer, [5, 2, 5], gamma: 0.1), 6);
        AssertClose([0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1 * 0.1], lrs);
    }

    [Fact]
    public void Cosine_annealing_follows_the_half_cosine_from_base_to_eta_min()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        var lrs = Lrs(optimizer, LRSchedules.CosineAnnealingLR(optimizer, T_max: 10, eta_min: 0.01), 10);
        var expected = Enumerable.Range(0, 11).Select(e => 0.01 + (0.1 - 0.01) * (1 + Math.Cos(Math.PI * e / 10)) / 2).ToList();
        AssertClose(expected, lrs);
        // Landmarks: the base at 0, the midpoint at T_max/2, eta_min at T_max.
        Assert.Equal(0.1, lrs[0], 15);
        Assert.Equal(0.055, lrs[5], 15);
        Assert.Equal(0.01, lrs[10], 15);
    }

    [Fact]
    public void Linear_warmup_ramps_up_then_hands_over_to_the_wrapped_schedule()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        var cosine = LRSchedules.CosineAnnealingLR(optimizer, T_max: 10, eta_min: 0.01);
        var warmup = LRSchedules.LinearWarmup(cosine, warmup_steps: 4, start_factor: 0.25);
        var lrs = Lrs(optimizer, warmup, 9);
        // Epochs 0-3: 0.1·(0.25 + 0.75·e/4); then the cosine from its epoch 0.
        var expected = Enumerable.Range(0, 4).Select(e => 0.1 * (0.25 + 0.75 * e / 4))
            .Concat(Enumerable.Range(0, 6).Select(e => 0.01 + 0.09 * (1 + Math.Cos(Math.PI * e / 10)) / 2)).ToList();
        AssertClose(expected, lrs);
        Assert.Equal(0.025, lrs[0], 15);
        Assert.Equal(0.1, lrs[4], 15);
        Assert.Equal(0.055, lrs[9], 15);
        Assert.Equal(5, cosine.last_epoch);
    }

    [Fact]
    public void Warmup_alone_holds_the_base_lr_after_warming_up()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        var lrs = Lrs(optimizer, LRSchedules.LinearWarmup(optimizer, warmup_steps: 2, start_factor: 0.5), 3);
        AssertClose([0.05, 0.075, 0.1, 0.1], lrs);
    }

    [Fact]
    public void Each_parameter_group_is_scheduled_from_its_own_base_lr()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = Optimizers.SGD(
            [new ParamGroupSpec([torch.zeros([1], requires_grad: true)]), new ParamGroupSpec([torch.zeros([1], requires_grad: true)], lr: 0.01)],
            lr: 0.1);
        var scheduler = LRSchedules.StepLR(optimizer, step_size: 1, gamma: 0.5);
        scheduler.step();
        Assert.Equal([0.05, 0.005], scheduler.get_last_lr());
        Assert.Equal([0.1, 0.01], scheduler.base_lrs);
        Assert.Equal(0.01, optimizer.param_groups[1].initial_lr);
    }

    [Fact]
    public void A_restored_schedule_continues_exactly_where_it_was_saved()
    {
        using var scope = torch.NewDisposeScope();
        using var original = NewSgd();
        var schedule = LRSchedules.LinearWarmup(LRSchedules.CosineAnnealingLR(original, T_max: 20), warmup_steps: 3);
        for (var i = 0; i < 7; i++)
            schedule.step();
        using var saved = schedule.state_dict();
        Assert.Equal(7L, saved["last_epoch"].AsInt64());

        // A fresh optimizer and schedule built the same way, restored from the saved state.
        using var resumed = NewSgd();
        var restored = LRSchedules.LinearWarmup(LRSchedules.CosineAnnealingLR(resumed, T_max: 20), warmup_steps: 3);
        restored.load_state_dict(saved);
        Assert.Equal(original.param_groups[0].lr, resumed.param_groups[0].lr);
        for (var i = 0; i < 5; i++)
        {
            schedule.step();
            restored.step();
            Assert.Equal(original.param_groups[0].lr, resumed.param_groups[0].lr);
        }
    }

    [Fact]
    public void Invalid_schedules_and_states_are_rejected_with_the_field_named()
    {
        using var scope = torch.NewDisposeScope();
        using var optimizer = NewSgd();
        Assert.Contains("step_size", Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(optimizer, 0)).Message);
        Assert.Contains("T_max", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(optimizer, 0)).Message);
        Assert.Contains("start_factor", Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(optimizer, 5, 0)).Message);
        var scheduler = new StepLR(optimizer, 2);
        using var state = new StateDict { ["last_epoch"] = torch.full([], 3, ScalarType.Int64) };
        var ex = Assert.Throws<StateDictMismatchException>(() => scheduler.load_state_dict(state));
        Assert.Equal(["base_lrs"], ex.MissingKeys);
    }
}
