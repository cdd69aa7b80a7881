using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Training;

/// <summary>Small, fast runs on the generated shapes: a few hundred images, narrow networks, one or two epochs.</summary>
internal static class TrainingRuns
{
    public static readonly DatasetLoadOptions SmallShapes = new() { ShapesTrainCount = 480, ShapesTestCount = 160 };

    public static ExperimentSpec Spec(string method, int epochs = 1, int bits = 4) => new()
    {
        Seed = 3,
        Dataset = new DatasetSpec { Name = "shapes", ValidationSplit = 0.2 },
        Teacher = new TeacherSpec { Arch = "cifar-student-1", Width = 0.5 },
        Student = new StudentSpec { Arch = "cifar-student-3", Width = 1.0 },
        Method = method,
        Quantization = new QuantizationSpec { Bits = bits, BucketSize = 256, ActivationBits = method is Methods.Qkd or Methods.Qat ? bits : null },
        Qkd = new QkdSpec { SelfStudyingEpochs = 1, CoStudyingEpochs = 1, TutoringEpochs = 1 },
        Optimizer = new OptimizerSpec { Name = "sgd", Lr = 0.05, Epochs = epochs, BatchSize = 32 },
        Precision = "fp32",
        ChannelsLast = true,
    };

    public static string NewDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "qs-train-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs a spec to the end and returns its events.</summary>
    public static IReadOnlyList<RunEvent> Run(ExperimentSpec spec, string dir, bool resume = false, IRunEventSink? extra = null,
        CancellationToken ct = default, DatasetLoadOptions? data = null, long lastSeq = 0)
    {
        var list = new ListEventSink();
        var stream = new RunEventStream(extra is null ? [list] : [list, extra], lastSeq: lastSeq);
        var runner = new ExperimentRunner { DataOptions = data ?? SmallShapes, StepMetricsEvery = 1 };
        runner.Run(new RunContext(spec, dir, stream, resume, dir), ct);
        return list.Events;
    }
}

/// <summary>
/// Training tests run alone: libtorch's random generator is process-wide, and a test elsewhere that
/// reseeds it or draws from it mid-initialization would change a run that must be reproducible.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training";
}
