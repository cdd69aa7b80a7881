using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using Xunit.Abstractions;

namespace QuantStudio.Tests.Training;

/// <summary>
/// A short version of the QKD/QAT goal (docs/training.md): on the generated shapes with 4-bit weights and activations and
/// the same student budget, QKD is at least as good as QAT. Measured on three seeds (subset 4,000, cifar-student-3,
/// 4 student epochs, teacher cifar-student-1 trained 6 epochs in the run to 94.8–96.4 %): QAT 85.75, 78.05 and 78.45 %;
/// QKD 1 + 1 + 2 86.70, 81.95 and 79.05 %. Before tutoring started from the better teacher, co-studying dragged the teacher
/// toward the student and QKD ended at 78.90, 70.45 and 69.25 %: 6.9 to 9.2 points behind.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class QkdAgainstQatTests
{
    // Seed noise between machines (other instruction sets round differently): QKD may trail QAT by this much and still pass.
    private const double Tolerance = 0.02;

    private readonly ITestOutputHelper output;

    public QkdAgainstQatTests(ITestOutputHelper output) => this.output = output;

    private static ExperimentSpec Spec(string method) => new()
    {
        Seed = 1,
        Dataset = new DatasetSpec { Name = "shapes", Subset = 4000 },
        Teacher = method == Methods.Qkd
            ? new TeacherSpec { Arch = "cifar-student-1", Train = new OptimizerSpec { Lr = 0.05, Epochs = 6, BatchSize = 64 } }
            : null,
        Student = new StudentSpec { Arch = "cifar-student-3" },
        Method = method,
        Quantization = new QuantizationSpec { Bits = 4, ActivationBits = 4 },
        Qkd = new QkdSpec { SelfStudyingEpochs = 1, CoStudyingEpochs = 1, TutoringEpochs = 2 },
        Optimizer = new OptimizerSpec { Lr = 0.05, Epochs = 4, BatchSize = 64 },
        Precision = "fp32",
    };

    private double Accuracy(string method)
    {
        var dir = TrainingRuns.NewDirectory();
        try
        {
            var events = TrainingRuns.Run(Spec(method), dir, data: new DatasetLoadOptions());
            var summary = Assert.IsType<RunFinished>(events[^1]).Summary;
            output.WriteLine($"{method}: student {summary["student_accuracy"]:P2}"
                + (summary.TryGetValue("teacher_accuracy", out var t) ? $", teacher {t:P2}" : ""));
            return summary["student_accuracy"];
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Qkd_with_4_bit_activations_is_at_least_as_good_as_qat_on_the_same_budget()
    {
        var qat = Accuracy(Methods.Qat);
        var qkd = Accuracy(Methods.Qkd);
        Assert.True(qat > 0.6, $"QAT W4A4 reached only {qat:P2}: the short setting no longer learns");
        Assert.True(qkd >= qat - Tolerance, $"QKD W4A4 {qkd:P2} against QAT W4A4 {qat:P2}");
    }
}
