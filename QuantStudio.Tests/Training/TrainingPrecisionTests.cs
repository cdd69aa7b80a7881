using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using QuantStudio.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Training;

public class TrainingPrecisionTests
{
    [Fact]
    public void Fixed_precisions_are_taken_as_they_are_without_timing()
    {
        using var model = ModelZoo.Create("mlp", new InputShape(1, 8, 8, 4));
        var shape = new InputShape(1, 8, 8, 4);
        Assert.Equal(new PrecisionChoice(false), TrainingPrecision.Choose("fp32", model, shape, 16, false));
        Assert.Equal(new PrecisionChoice(true), TrainingPrecision.Choose("bf16", model, shape, 16, false));
        Assert.Contains("allowed: fp32, bf16, auto", Assert.Throws<ArgumentException>(() => TrainingPrecision.Choose("fp16", model, shape, 16, false)).Message);
    }

    [Fact]
    public void Auto_times_both_precisions_and_leaves_the_model_as_it_found_it()
    {
        var shape = new InputShape(3, 16, 16, 5);
        using var model = ModelZoo.Create("cifar-student-3", shape);
        model.eval();
        using var before = model.StateDictOf().Clone();

        var choice = TrainingPrecision.Choose("auto", model, shape, 32, channelsLast: true);

        Assert.NotNull(choice.Fp32StepMs);
        Assert.NotNull(choice.Bf16StepMs);
        Assert.True(choice.Fp32StepMs > 0 && choice.Bf16StepMs > 0);
        // The faster one is kept; fp32 unless bf16 is at least 5% faster.
        Assert.Equal(choice.Bf16StepMs < 0.95 * choice.Fp32StepMs, choice.Bf16);
        Assert.Equal(choice.Bf16 ? "bf16" : "fp32", choice.Name);
        // Weights and batch-norm statistics as before (the timed steps ran in training mode), no gradients, mode kept.
        Assert.False(model.training);
        using var after = model.StateDictOf();
        foreach (var (name, t) in before)
            Assert.True(t.eq(after[name]).all().item<bool>(), $"{name} changed");
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }
}
