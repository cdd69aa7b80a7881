using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Training.Optim;

namespace QuantStudio.Core.Training;

/// <summary>Builds the optimizer and learning-rate schedule an <see cref="OptimizerSpec"/> describes.</summary>
public static class OptimizerFactory
{
    /// <param name="lrScale">Multiplies the spec's lr (a co-studying teacher is fine-tuned at a lower rate).</param>
    public static Optimizer Create(OptimizerSpec spec, IReadOnlyList<ParamGroupSpec> groups, double lrScale = 1)
    {
        var lr = spec.Lr * lrScale;
        return spec.Name switch
        {
            "sgd" => Optimizers.SGD(groups, lr, spec.Momentum, weight_decay: spec.WeightDecay, nesterov: spec.Nesterov && spec.Momentum > 0),
            "adam" => Optimizers.Adam(groups, lr, weight_decay: spec.WeightDecay),
            "adamw" => Optimizers.AdamW(groups, lr, weight_decay: spec.WeightDecay),
            _ => throw new ArgumentException($"optimizer.name: unknown optimizer '{spec.Name}'; allowed: sgd, adam, adamw", nameof(spec)),
        };
    }

    /// <summary>
    /// A schedule stepped once per training step over <paramref name="epochs"/> epochs: warm-up over
    /// <c>warmup_epochs</c>, then constant, step (÷10 at each third), multistep (÷10 at 50% and 75%)
    /// or cosine to zero. Stepping per step rather than per epoch keeps short runs smooth.
    /// With <paramref name="firstEpoch"/> &gt; 0 the schedule is entered there (a later phase of a
    /// schedule that spans several phases): its first step has the lr of step firstEpoch · stepsPerEpoch.
    /// </summary>
    public static LRScheduler CreateSchedule(OptimizerSpec spec, Optimizer optimizer, int epochs, int stepsPerEpoch, int firstEpoch = 0)
    {
        if (firstEpoch < 0 || firstEpoch >= Math.Max(1, epochs))
            throw new ArgumentOutOfRangeException(nameof(firstEpoch), firstEpoch, $"firstEpoch must be in [0, {epochs})");
        var total = Math.Max(1L, (long)epochs * stepsPerEpoch);
        var warm = Math.Min(total - 1, (long)Math.Min(spec.WarmupEpochs ?? 0, epochs) * stepsPerEpoch);
        var rest = Math.Max(1, total - warm);
        LRScheduler main = spec.Schedule switch
        {
            // A multistep schedule with no milestones keeps the lr constant and still saves its state.
            "constant" => LRSchedules.MultiStepLR(optimizer, [], 1.0),
            "step" => LRSchedules.StepLR(optimizer, Math.Max(1, rest / 3), 0.1),
            "multistep" => LRSchedules.MultiStepLR(optimizer, [rest / 2, rest * 3 / 4], 0.1),
            "cosine" => LRSchedules.CosineAnnealingLR(optimizer, rest),
            _ => throw new ArgumentException($"optimizer.schedule: unknown schedule '{spec.Schedule}'; allowed: constant, step, multistep, cosine", nameof(spec)),
        };
        var whole = warm > 0 ? LRSchedules.LinearWarmup(main, warm) : main;
        return firstEpoch > 0 ? LRSchedules.Offset(whole, (long)firstEpoch * stepsPerEpoch) : whole;
    }
}
