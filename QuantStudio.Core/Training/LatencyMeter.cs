using System.Diagnostics;
using QuantStudio.Core.Models;
using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Training;

/// <summary>Inference latency at batch 1 and 64, in milliseconds.</summary>
public sealed record Latency(double Batch1, double Batch64);

/// <summary>
/// Times a network's forward pass in evaluation mode, fp32, without gradients: a few warm-up runs,
/// then the median of repeated runs within a small time budget (a median ignores the odd slow run).
/// </summary>
public static class LatencyMeter
{
    public static Latency Measure(Module<Tensor, Tensor> model, InputShape input, bool channelsLast, double budgetSeconds = 0.5) =>
        new(Measure(model, input, 1, channelsLast, budgetSeconds), Measure(model, input, 64, channelsLast, budgetSeconds));

    public static double Measure(Module<Tensor, Tensor> model, InputShape input, int batch, bool channelsLast, double budgetSeconds)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var x = input.IsText
                ? torch.zeros([batch, 64], ScalarType.Int64)
                : Trainer.PrepareInput(torch.randn(batch, input.Channels, input.Height, input.Width), channelsLast);
            for (var i = 0; i < 2; i++)
                model.call(x).Dispose();
            var times = new List<double>();
            var budget = Stopwatch.StartNew();
            while (times.Count < 5 || (budget.Elapsed.TotalSeconds < budgetSeconds && times.Count < 200))
            {
                var sw = Stopwatch.StartNew();
                model.call(x).Dispose();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
