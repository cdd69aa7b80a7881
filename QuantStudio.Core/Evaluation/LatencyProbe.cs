using System.Diagnostics;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Evaluation;

/// <summary>Median forward latency at batch 1 and batch 64, in milliseconds (summary.json's teacher_latency_ms / student_latency_ms).</summary>
public sealed record LatencyResult(double Batch1Ms, double Batch64Ms);

/// <summary>
/// Measures inference latency: fp32, eval mode, no gradients, on random inputs of the model's
/// shape. A few untimed warm-up passes let the allocator and the kernels settle; the median of
/// the timed passes resists the odd slow one (another process, a page fault).
/// </summary>
public static class LatencyProbe
{
    /// <param name="channelsLast">Image inputs in channels_last (for a model trained that way).</param>
    public static LatencyResult Measure(Module<Tensor, Tensor> model, InputShape input, int sequenceLength = 64, int warmup = 2, int iterations = 7,
        bool channelsLast = false) =>
        new(MedianMs(model, input, 1, sequenceLength, warmup, iterations, channelsLast), MedianMs(model, input, 64, sequenceLength, warmup, iterations, channelsLast));

    /// <summary>The median of <paramref name="iterations"/> timed forward passes at <paramref name="batch"/>; the model's training mode is restored.</summary>
    public static double MedianMs(Module<Tensor, Tensor> model, InputShape input, int batch, int sequenceLength = 64, int warmup = 2, int iterations = 7,
        bool channelsLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(warmup, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var x = input.IsText
                ? torch.randint(0, input.Classes, [batch, sequenceLength])
                : (channelsLast ? torch.randn([batch, input.Channels, input.Height, input.Width]).ToChannelsLast() : torch.randn([batch, input.Channels, input.Height, input.Width]));
            var times = new double[iterations];
            for (var i = -warmup; i < iterations; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using (torch.NewDisposeScope())
                    model.call(x);
                if (i >= 0)
                    times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(times);
            return iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
