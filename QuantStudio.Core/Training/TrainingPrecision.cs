using System.Diagnostics;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>What a run's <c>precision</c> resolved to; for <c>auto</c>, the two step times it was chosen by.</summary>
public sealed record PrecisionChoice(bool Bf16, double? Fp32StepMs = null, double? Bf16StepMs = null)
{
    /// <summary>The name reported in events and the summary: what the run actually uses.</summary>
    public string Name => Bf16 ? "bf16" : "fp32";
}

/// <summary>
/// How a run's <c>precision</c> setting resolves. <c>fp32</c> and <c>bf16</c> are taken as they are.
/// <c>auto</c> is decided by measurement, not by CPU flags: a few training steps (forward and
/// backward) of the run's own model are timed both ways before training starts, outside the run's
/// reported throughput, and the faster is kept (fp32 on a tie within 5%). Evaluation and the
/// compressed checkpoint are fp32 whatever this says.
/// </summary>
public static class TrainingPrecision
{
    private const int WarmupSteps = 2, TimedSteps = 4;

    public static PrecisionChoice Choose(string precision, Module<Tensor, Tensor> model, InputShape shape, int batchSize, bool channelsLast) => precision switch
    {
        "fp32" => new PrecisionChoice(false),
        "bf16" => new PrecisionChoice(true),
        "auto" => Measure(model, shape, batchSize, channelsLast),
        _ => throw new ArgumentException($"unknown precision '{precision}'; allowed: fp32, bf16, auto", nameof(precision)),
    };

    /// <summary>Median step time both ways. The model's weights, buffers (batch-norm statistics), gradients and mode are restored.</summary>
    public static PrecisionChoice Measure(Module<Tensor, Tensor> model, InputShape shape, int batchSize, bool channelsLast)
    {
        var batch = Math.Clamp(batchSize, 1, 64);
        var wasTraining = model.training;
        using var saved = model.StateDictOf().Clone();
        try
        {
            model.train();
            var fp32 = MedianStepMs(model, shape, batch, channelsLast, bf16: false);
            var bf16 = MedianStepMs(model, shape, batch, channelsLast, bf16: true);
            return new PrecisionChoice(bf16 < 0.95 * fp32, fp32, bf16);
        }
        finally
        {
            model.LoadStateDictChecked(saved);
            foreach (var p in model.parameters())
                p.grad = null!;
            model.train(wasTraining);
        }
    }

    private static double MedianStepMs(Module<Tensor, Tensor> model, InputShape shape, int batch, bool channelsLast, bool bf16)
    {
        var times = new double[TimedSteps];
        for (var i = -WarmupSteps; i < TimedSteps; i++)
        {
            using var scope = NewDisposeScope();
            var x = shape.IsText ? randint(0, shape.Classes, [batch, 64]) : randn(batch, shape.Channels, shape.Height, shape.Width);
            if (channelsLast)
                x = x.ToChannelsLast();
            using var two = 2.ToScalar();
            var start = Stopwatch.GetTimestamp();
            using (ComputePrecision.Bf16(bf16))
            {
                var y = model.call(x);
                y.to_type(ScalarType.Float32).pow(two).mean().backward();
            }
            if (i >= 0)
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            foreach (var p in model.parameters())
                p.grad = null!;
        }
        Array.Sort(times);
        return (times[TimedSteps / 2 - 1] + times[TimedSteps / 2]) / 2;
    }
}
