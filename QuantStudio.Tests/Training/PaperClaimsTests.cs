using Xunit.Abstractions;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Training;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Tests.Training;

/// <summary>
/// Polino et al.'s claims on the generated shapes, with fixed seeds: one teacher, then the same
/// student (same initialization, data order and epochs) under each method at 2 bits.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class PaperClaimsTests : IClassFixture<PaperClaimsTests.Teacher>
{
    private static readonly DatasetLoadOptions Data = new() { ShapesTrainCount = 2000, ShapesTestCount = 500 };
    private static readonly InputShape Shape = InputShape.Image(3, 32, 32, 10);
    private readonly Teacher teacher;
    private readonly ITestOutputHelper output;

    public PaperClaimsTests(Teacher teacher, ITestOutputHelper output)
    {
        this.teacher = teacher;
        this.output = output;
    }

    /// <summary>A full-precision teacher trained once for the class.</summary>
    public sealed class Teacher : IDisposable
    {
        public Teacher()
        {
            // The thread count changes float summation order; fix it as the runner does.
            torch.set_num_threads(Environment.ProcessorCount);
            Dataset = DatasetRegistry.Load(new DatasetSpec { Name = "shapes", ValidationSplit = 0.2 }, 7, Data);
            torch.manual_seed(11);
            Model = ModelZoo.Create("cifar-student-1", Shape, 0.5);
            using var method = new FullPrecisionMethod(Model, Spec(Methods.FullPrecision, 6).Optimizer, "teacher");
            new Trainer(Dataset, Options("teacher"), _ => { }).Run(method);
            Accuracy = ModelEvaluator.Evaluate(Model, Dataset, Dataset.Test, 64, x => Trainer.PrepareInput(x, true)).Accuracy!.Value;
        }

        public LoadedDataset Dataset { get; }
        public Module<Tensor, Tensor> Model { get; }
        public double Accuracy { get; }

        public void Dispose() => Model.Dispose();
    }

    private static ExperimentSpec Spec(string method, int epochs) => new()
    {
        Seed = 7,
        Method = method,
        Quantization = new QuantizationSpec { Bits = 2, BucketSize = 256, PointInit = "quantile" },
        Optimizer = new OptimizerSpec { Name = "sgd", Lr = 0.05, Epochs = epochs, BatchSize = 32 },
        Precision = "fp32",
    };

    private static TrainerOptions Options(string stage) => new() { Stage = stage, Seed = 7, BatchSize = 32, ChannelsLast = true };

    private (double Test, TrainerResult Result) Train(ExperimentSpec spec, Func<Module<Tensor, Tensor>, TeacherLogits, TrainingMethod> create,
        Action<TrainingMethod>? inspect = null)
    {
        var data = teacher.Dataset;
        Tensor Prepare(Tensor x) => Trainer.PrepareInput(x, true);
        torch.manual_seed(23);
        using var student = ModelZoo.Create("cifar-student-2", Shape, 0.5);
        using var logits = new TeacherLogits(teacher.Model, data, 32, false, Prepare);
        using var method = create(student, logits);
        var result = new Trainer(data, Options("student"), _ => { }).Run(method);
        method.Finish();
        inspect?.Invoke(method);
        return (ModelEvaluator.Evaluate(method.Student, data, data.Test, 64, Prepare).Accuracy!.Value, result);
    }

    [Fact]
    public void At_2_bits_quantized_distillation_beats_post_training_quantization_of_the_same_student()
    {
        Assert.True(teacher.Accuracy > 0.5, $"the teacher only reached {teacher.Accuracy:P1}");
        // One scale per tensor: the setting where rounding a trained network costs most, and training under it helps most.
        var spec = Spec(Methods.QuantizedDistillation, 5) with { Quantization = new QuantizationSpec { Bits = 2, BucketSize = null } };
        var (ptq, _) = Train(spec, (s, t) => new PostTrainingMethod(s, t, spec with { Method = Methods.PostTraining }));
        var (qd, _) = Train(spec, (s, t) => new QuantizedDistillationMethod(s, t, spec));
        output.WriteLine($"teacher {teacher.Accuracy:P1}; 2 bits: quantized distillation {qd:P1}, post-training {ptq:P1}");
        Assert.True(qd > ptq + 0.05, $"quantized distillation {qd:P1} vs post-training quantization {ptq:P1}");
    }

    [Fact]
    public void Differentiable_quantization_improves_on_the_post_training_quantization_it_starts_from()
    {
        var spec = Spec(Methods.DifferentiableQuantization, 4);
        EvaluationResult? start = null;
        var (_, result) = Train(spec, (s, t) => new DifferentiableQuantizationMethod(s, t, spec),
            m => start = ((DifferentiableQuantizationMethod)m).StartValidation);
        Assert.NotNull(start);
        var learned = result.LastValidation!;
        output.WriteLine($"2 bits: initial points {start.Accuracy:P1} (loss {start.Loss:F3}), learned {learned.Accuracy:P1} (loss {learned.Loss:F3})");
        Assert.True(learned.Accuracy > start.Accuracy + 0.02 && learned.Loss < start.Loss,
            $"learned points {learned.Accuracy:P1} (loss {learned.Loss:F3}) vs initial points {start.Accuracy:P1} (loss {start.Loss:F3})");
    }
}
