using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>
/// The paper's "PM" baseline: train the student in full precision by cross-entropy, then quantize it
/// once with the bucketed uniform quantizer and deterministic rounding, with no retraining. A run never
/// gives it a teacher (the spec's <c>post_training</c> ignores one, with a warning); given one directly,
/// it trains by distillation, which is how the tests compare it with quantized distillation from the
/// same distilled start.
/// </summary>
public sealed class PostTrainingMethod : TrainingMethod
{
    private readonly Module<Tensor, Tensor> student;
    private readonly TeacherLogits? teacher;
    private readonly ExperimentSpec spec;
    private readonly UniformWeightQuantizers quantizers;

    public PostTrainingMethod(Module<Tensor, Tensor> student, TeacherLogits? teacher, ExperimentSpec spec)
    {
        this.student = student;
        this.teacher = teacher;
        this.spec = spec;
        // Deterministic rounding whatever the spec says: there is no training to average the noise out.
        var q = spec.Quantization with { Rounding = "deterministic" };
        quantizers = new UniformWeightQuantizers(QuantizableWeights.Select(student, q.QuantizeFirstLast), q, spec.Seed, () => false);
        Phases = [new(teacher is null ? "full_precision" : "distillation", spec.Optimizer.Epochs), new("post_training_quantization", 0)];
    }

    public override string Name => Methods.PostTraining;
    public override IReadOnlyList<TrainingPhase> Phases { get; }
    public override Module<Tensor, Tensor> Student => student;
    public override IReadOnlyList<Trainee> Trainees(int phase) => [StudentTrainee(student, spec.Optimizer)];

    public override void BeginPhase(int phase, PhaseContext context, bool resumed)
    {
        if (phase == 1)
            quantizers.Install();
    }

    public override StepLoss Loss(int phase, Batch batch, Tensor input) => teacher is null
        ? FullPrecisionMethod.TaskLoss(student, batch, input)
        : DistillationMethod.DistillationLoss(student, teacher, spec.Distillation, batch, input);

    public override IReadOnlyList<QuantizedWeightView> QuantizedWeights() => quantizers.Installed ? quantizers.Views() : [];

    public override IReadOnlyDictionary<string, TensorEncoding> Finish()
    {
        quantizers.Install();
        return quantizers.Encodings();
    }

    public override Dictionary<string, Tensor> DequantizedWeights() => quantizers.Dequantized();

    public override void Dispose()
    {
        quantizers.Dispose();
        base.Dispose();
    }
}
