using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Tests.Engine;

/// <summary>Saving model, optimizer and schedule mid-run and restoring them into fresh objects continues the run bit for bit.</summary>
public class CheckpointResumeTests
{
    private sealed record Run(Sequential model, Optimizer optimizer, LRScheduler scheduler) : IDisposable
    {
        public void Dispose()
        {
            optimizer.Dispose();
            model.Dispose();
        }
    }

    private static Run NewRun(string optimizerKind)
    {
        var model = torch.nn.Sequential(("0", Layer.Linear(4, 8)), ("1", torch.nn.BatchNorm1d(8)), ("2", torch.nn.ReLU()), ("3", Layer.Linear(8, 3)));
        // Two groups, so per-group options and the flat state indexing are both exercised.
        var groups = new[]
        {
            new ParamGroupSpec(((nn.Module)model[0]).parameters().Concat(((nn.Module)model[1]).parameters())),
            new ParamGroupSpec(((nn.Module)model[3]).parameters(), lr: 0.02),
        };
        Optimizer optimizer = optimizerKind switch
        {
            "sgd" => Optimizers.SGD(groups, lr: 0.05, momentum: 0.9, weight_decay: 1e-3, nesterov: true),
            "adam" => Optimizers.Adam(groups, lr: 0.01, amsgrad: true, weight_decay: 1e-3),
            _ => Optimizers.AdamW(groups, lr: 0.01),
        };
        var scheduler = LRSchedules.LinearWarmup(LRSchedules.StepLR(optimizer, step_size: 2, gamma: 0.5), warmup_steps: 2);
        return new Run(model, optimizer, scheduler);
    }

    private static void TrainStep(Run run, Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        run.optimizer.zero_grad();
        F.cross_entropy(run.model.call(x), y).backward();
        run.optimizer.step();
        run.scheduler.step();
    }

    private static StateDict Checkpoint(Run run)
    {
        var checkpoint = new StateDict();
        using var model = run.model.StateDictOf();
        using var optimizer = run.optimizer.state_dict();
        using var scheduler = run.scheduler.state_dict();
        checkpoint.AddWithPrefix("model.", model).AddWithPrefix("optimizer.", optimizer).AddWithPrefix("scheduler.", scheduler);
        // A deep copy stands in for writing the checkpoint to disk.
        using (checkpoint)
            return checkpoint.Clone();
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Resuming_from_a_checkpoint_gives_a_bit_identical_next_step(string optimizerKind)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(16, 4);
        var y = torch.randint(0, 3, [16]);
        using var original = NewRun(optimizerKind);
        for (var i = 0; i < 3; i++)
            TrainStep(original, x, y);
        using var checkpoint = Checkpoint(original);
        Assert.Contains("optimizer.state.0.step", checkpoint.Keys);
        Assert.Contains("optimizer.param_groups.1.lr", checkpoint.Keys);

        using var resumed = NewRun(optimizerKind);
        using (var model = checkpoint.WithoutPrefix("model."))
            resumed.model.LoadStateDictChecked(model);
        using (var optimizer = checkpoint.WithoutPrefix("optimizer."))
            resumed.optimizer.load_state_dict(optimizer);
        using (var scheduler = checkpoint.WithoutPrefix("scheduler."))
            resumed.scheduler.load_state_dict(scheduler);

        for (var i = 0; i < 2; i++)
        {
            TrainStep(original, x, y);
            TrainStep(resumed, x, y);
        }
        var expected = original.model.state_dict();
        var actual = resumed.model.state_dict();
        foreach (var key in expected.Keys)
        {
            if (expected[key].dtype == ScalarType.Float32)
                Assert.Equal(expected[key].data<float>().ToArray(), actual[key].data<float>().ToArray());
            else
                Assert.Equal(expected[key].data<long>().ToArray(), actual[key].data<long>().ToArray());
        }
        Assert.Equal(original.optimizer.param_groups.Select(g => g.lr), resumed.optimizer.param_groups.Select(g => g.lr));
    }

    [Fact]
    public void Loading_another_optimizers_state_names_every_offending_key_and_changes_nothing()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.ones([2], requires_grad: true);
        using var adam = Optimizers.Adam([p]);
        p.grad = torch.ones(2);
        adam.step();
        using var adamState = adam.state_dict();

        var q = torch.ones([2], requires_grad: true);
        using var sgd = Optimizers.SGD([q], lr: 0.1, momentum: 0.9);
        var ex = Assert.Throws<StateDictMismatchException>(() => sgd.load_state_dict(adamState));
        Assert.Contains("param_groups.0.momentum", ex.MissingKeys);
        Assert.Contains("param_groups.0.beta1", ex.UnexpectedKeys);
        Assert.Contains("state.0.exp_avg", ex.UnexpectedKeys);
        Assert.Equal(0.1, sgd.param_groups[0].lr);
        Assert.Null(sgd.state(q));
    }

    [Fact]
    public void Loading_state_for_a_differently_shaped_model_fails()
    {
        using var scope = torch.NewDisposeScope();
        var small = torch.ones([2], requires_grad: true);
        using var saved = Optimizers.SGD([small], lr: 0.1, momentum: 0.9);
        small.grad = torch.ones(2);
        saved.step();
        using var state = saved.state_dict();

        using var twoParams = Optimizers.SGD([torch.ones([3], requires_grad: true), torch.ones([1], requires_grad: true)], lr: 0.1, momentum: 0.9);
        var ex = Assert.Throws<StateDictMismatchException>(() => twoParams.load_state_dict(state));
        Assert.Contains(ex.ShapeMismatches, m => m.StartsWith("param_groups.0.params", StringComparison.Ordinal));
        Assert.Contains(ex.ShapeMismatches, m => m.StartsWith("state.0.momentum_buffer: checkpoint [2], optimizer [3]", StringComparison.Ordinal));
    }
}
