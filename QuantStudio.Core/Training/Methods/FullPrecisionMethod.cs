using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>Cross-entropy training of one network in full precision: a baseline student, or a teacher trained first.</summary>
public sealed class FullPrecisionMethod(Module<Tensor, Tensor> model, OptimizerSpec optimizer, string phaseName = "full_precision") : TrainingMethod
{
    public override string Name => Methods.FullPrecision;
    public override IReadOnlyList<TrainingPhase> Phases { get; } = [new(phaseName, optimizer.Epochs)];
    public override Module<Tensor, Tensor> Student => model;
    public override IReadOnlyList<Trainee> Trainees(int phase) => [StudentTrainee(model, optimizer)];

    public override StepLoss Loss(int phase, Batch batch, Tensor input) => TaskLoss(model, batch, input);

    internal static StepLoss TaskLoss(Module<Tensor, Tensor> model, Batch batch, Tensor input)
    {
        var logits = model.call(input);
        var ce = Losses.CrossEntropy(logits, batch.Target);
        return new StepLoss(ce, new Dictionary<string, Tensor> { ["ce"] = ce }, logits);
    }
}
