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
/// Quantized distillation (Polino et al. 2018): the student's forward and backward passes run on
/// its quantized weights, the distillation loss's gradients update the full-precision shadow
/// weights (straight-through), and the model is quantized once more at the end. The first and last
/// layers stay in full precision unless quantization.quantize_first_last is set.
/// </summary>
public sealed class QuantizedDistillationMethod : TrainingMethod
{
    private readonly Module<Tensor, Tensor> student;
    private readonly TeacherLogits teacher;
    private readonly ExperimentSpec spec;
    private readonly UniformWeightQuantizers quantizers;

    public QuantizedDistillationMethod(Module<Tensor, Tensor> student, TeacherLogits teacher, ExperimentSpec spec)
    {
        this.student = student;
        this.teacher = teacher;
        this.spec = spec;
        quantizers = new UniformWeightQuantizers(QuantizableWeights.Select(student, spec.Quantization.QuantizeFirstLast), spec.Quantization,
            spec.Seed, () => student.training);
        quantizers.Install();
    }

    public override string Name => Methods.QuantizedDistillation;
    public override IReadOnlyList<TrainingPhase> Phases => [new("quantized_distillation", spec.Optimizer.Epochs)];
    public override Module<Tensor, Tensor> Student => student;
    public override IReadOnlyList<Trainee> Trainees(int phase) => [StudentTrainee(student, spec.Optimizer)];

    public override void BeforeStep(int phase, long step) => quantizers.Step = step;

    public override StepLoss Loss(int phase, Batch batch, Tensor input) =>
        DistillationMethod.DistillationLoss(student, teacher, spec.Distillation, batch, input);

    public override IReadOnlyList<QuantizedWeightView> QuantizedWeights() => quantizers.Views();

    /// <summary>Evaluation already uses deterministic rounding of the final shadow weights: that is the last quantization.</summary>
    public override IReadOnlyDictionary<string, TensorEncoding> Finish() => quantizers.Encodings();

    public override Dictionary<string, Tensor> DequantizedWeights() => quantizers.Dequantized();

    public override void Dispose()
    {
        quantizers.Dispose();
        base.Dispose();
    }
}
