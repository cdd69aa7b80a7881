using QuantStudio.Cli.Commands;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Cli;

public class ProgressLineTests
{
    private static StepMetrics Step(string phase, int epoch, long step, double loss) =>
        new(phase, epoch, step, loss, new Dictionary<string, double>(), 0.05, 1000);

    private static string LastRedraw(string text) => text.Split('\r', '\n').Last(l => l.Trim().Length > 0).TrimEnd();

    [Fact]
    public void A_new_phase_does_not_carry_the_previous_phases_accuracy_or_bar()
    {
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr);
        progress.Emit(new PhaseStarted("teacher", 0, 1));
        progress.Emit(Step("teacher", 1, 1, 2.0));
        progress.Emit(Step("teacher", 1, 2, 1.5));
        progress.Emit(new EpochMetrics("teacher", 1, 1.7, null, 1.2, 0.981, null, 0.05, 3));
        Assert.Contains("teacher epoch 1: train loss 1.7000, val loss 1.2000, val acc 98.1", stderr.ToString());
        progress.Emit(Step("teacher", 1, 3, 1.4)); // a late step still shows the teacher's figure
        Assert.Contains("val acc 98.1", LastRedraw(stderr.ToString()));

        // The student's trainer numbers its phases from 0 again: the line counts phases across the run.
        progress.Emit(new PhaseStarted("quantized_distillation", 0, 2));
        Assert.Contains("phase 1: teacher (1 epochs)", stderr.ToString());
        Assert.Contains("phase 2: quantized_distillation (2 epochs)", stderr.ToString());
        progress.Emit(Step("quantized_distillation", 1, 4, 6.5));
        var line = LastRedraw(stderr.ToString());
        Assert.StartsWith("quantized_distillation epoch 1", line);
        Assert.Contains("] 1 loss 6.5000", line); // step 1 of the new phase, no bar length from the teacher's epochs
        Assert.DoesNotContain("98.1", line);
        Assert.DoesNotContain("#", line);
    }
}
