using QuantStudio.Cli.Commands;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Cli;

public class ProgressLineTests
{
    private static StepMetrics Step(string phase, int epoch, long step, double loss, int epochStep = 0, int epochSteps = 0) =>
        new(phase, epoch, step, loss, new Dictionary<string, double>(), 0.05, 1000, epochStep, epochSteps);

    private static string LastRedraw(string text) => text.Split('\r', '\n').Last(l => l.Trim().Length > 0).TrimEnd();

    [Fact]
    public void A_new_phase_does_not_carry_the_previous_phases_accuracy_or_bar()
    {
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr);
        progress.Emit(new PhaseStarted("teacher", 0, 1, 1, 3));
        progress.Emit(Step("teacher", 1, 1, 2.0, 1, 3));
        progress.Emit(Step("teacher", 1, 2, 1.5, 2, 3));
        progress.Emit(new EpochMetrics("teacher", 1, 1.7, null, 1.2, 0.981, null, 0.05, 3));
        Assert.Contains("teacher epoch 1: train loss 1.7000, val loss 1.2000, val acc 98.1", stderr.ToString());
        progress.Emit(Step("teacher", 1, 3, 1.4, 3, 3)); // a late step still shows the teacher's figure
        Assert.Contains("val acc 98.1", LastRedraw(stderr.ToString()));

        // The student's trainer numbers its phases from 0 again, of its own count.
        progress.Emit(new PhaseStarted("quantized_distillation", 0, 2, 1, 5));
        Assert.Contains("phase 1/1: teacher (1 epoch)", stderr.ToString());
        Assert.Contains("phase 1/1: quantized_distillation (2 epochs)", stderr.ToString());
        progress.Emit(Step("quantized_distillation", 1, 4, 6.5, 1, 5));
        var line = LastRedraw(stderr.ToString());
        Assert.StartsWith("quantized_distillation epoch 1", line);
        Assert.Contains("] 1/5 loss 6.5000", line);
        Assert.DoesNotContain("98.1", line);
    }

    [Fact]
    public void The_first_epoch_shows_its_bar_and_total_and_spaced_step_metrics_count_the_epochs_steps()
    {
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr);
        progress.Emit(new PhaseStarted("distillation", 0, 2, 1, 125));
        // Step metrics every 10 steps: the first one reported is step 10 of 125.
        progress.Emit(Step("distillation", 1, 10, 2.0, 10, 125));
        Assert.Contains("] 10/125 loss", LastRedraw(stderr.ToString()));
        Assert.Contains("[#", LastRedraw(stderr.ToString()));
        progress.Emit(Step("distillation", 1, 125, 1.0, 125, 125));
        Assert.Contains("[########################] 125/125", LastRedraw(stderr.ToString()));
        progress.Emit(Step("distillation", 2, 130, 0.9, 5, 125));
        Assert.Contains("] 5/125 loss", LastRedraw(stderr.ToString()));
    }

    [Fact]
    public void A_resumed_run_keeps_the_phase_numbers_of_its_method()
    {
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr);
        progress.Emit(new RunResumed(2, "student", 2, 0, 240));
        progress.Emit(new PhaseStarted("tutoring", 2, 2, 3, 12));
        Assert.Contains("phase 3/3: tutoring (2 epochs)", stderr.ToString());
        Assert.Contains("attempt 2", stderr.ToString());
    }

    [Fact]
    public void A_failure_is_left_to_the_commands_error_line()
    {
        var stderr = new StringWriter();
        var progress = new ProgressLine(stderr);
        progress.Emit(Step("qat", 1, 1, 2.0, 1, 10));
        progress.Emit(new RunFailed("the loss became NaN"));
        progress.Finish();
        Assert.DoesNotContain("NaN", stderr.ToString());
    }
}
