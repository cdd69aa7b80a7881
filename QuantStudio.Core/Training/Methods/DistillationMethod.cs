using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>
/// Knowledge distillation in full precision: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE
/// (Hinton et al. 2015), with the frozen teacher's logits from <see cref="TeacherLogits"/>.
/// </summary>
public sealed class DistillationMethod(Module<Tensor, Tensor> student, TeacherLogits teacher, DistillationSpec distillation, OptimizerSpec optimizer)
    : TrainingMethod
{
    public override string Name => Methods.Distillation;
    public override IReadOnlyList<TrainingPhase> Phases { get; } = [new("distillation", optimizer.Epochs)];
    public override Module<Tensor, Tensor> Student => student;
    public override IReadOnlyList<Trainee> Trainees(int phase) => [StudentTrainee(student, optimizer)];

    public override StepLoss Loss(int phase, Batch batch, Tensor input) => DistillationLoss(student, teacher, distillation, batch, input);

    internal static StepLoss DistillationLoss(Module<Tensor, Tensor> student, TeacherLogits teacher, DistillationSpec d, Batch batch, Tensor input)
    {
        var logits = student.call(input);
        var t = teacher.For(batch, input);
        var (total, soft, hard) = Losses.Distillation(logits, t, batch.Target, d.Temperature, d.Alpha);
        return new StepLoss(total, new Dictionary<string, Tensor> { ["kd"] = soft, ["ce"] = hard }, logits);
    }
}
