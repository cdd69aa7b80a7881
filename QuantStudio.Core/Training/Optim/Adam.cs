using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// Adam with PyTorch's semantics. With t the step: m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g²,
/// p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps). weight_decay adds weight_decay·p to g (L2);
/// amsgrad uses the running maximum of v.
/// </summary>
public class Adam : Optimizer
{
    private static readonly string[] StateNames = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    private readonly bool decoupledWeightDecay;

    public Adam(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : this(nameof(Adam), param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupledWeightDecay: false)
    {
    }

    protected Adam(string name, IEnumerable<ParamGroupSpec> param_groups, double lr, double beta1, double beta2, double eps,
        double weight_decay, bool amsgrad, bool maximize, bool decoupledWeightDecay)
        : base(name, param_groups, Options(
            ("lr", lr), ("beta1", beta1), ("beta2", beta2), ("eps", eps), ("weight_decay", weight_decay),
            ("amsgrad", amsgrad ? 1 : 0), ("maximize", maximize ? 1 : 0)))
    {
        this.decoupledWeightDecay = decoupledWeightDecay;
    }

    protected override IReadOnlyCollection<string> StateTensorNames => StateNames;

    protected override void ValidateOption(string option, double value)
    {
        switch (option)
        {
            case "lr" or "initial_lr" or "eps" or "weight_decay":
                RequireNonNegative(option, value);
                break;
            case "beta1" or "beta2":
                if (!(value >= 0 && value < 1))
                    throw new ArgumentOutOfRangeException(option, value, $"{option} must be in [0, 1)");
                break;
            case "amsgrad" or "maximize":
                RequireFlag(option, value);
                break;
        }
    }

    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        var lr = group.lr;
        var beta1 = group["beta1"];
        var beta2 = group["beta2"];
        var weightDecay = group["weight_decay"];
        var g = group.Flag("maximize") ? grad.neg() : grad;

        // Each Scalar held for the call (see HeldScalars).
        state.step++;
        if (weightDecay != 0)
        {
            using var decay = (decoupledWeightDecay ? 1 - lr * weightDecay : weightDecay).ToScalar();
            if (decoupledWeightDecay)
                param.mul_(decay);
            else
                g = g.add(param, decay);
        }

        var expAvg = state.GetOrZeros("exp_avg", param);
        var expAvgSq = state.GetOrZeros("exp_avg_sq", param);
        using var secondDecay = beta2.ToScalar();
        using var secondWeight = (1 - beta2).ToScalar();
        // lerp_ takes its weight as a tensor, which the step's dispose scope holds.
        expAvg.lerp_(g, 1 - beta1);
        expAvgSq.mul_(secondDecay).addcmul_(g, g, secondWeight);

        var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, state.step));
        var stepSize = lr / biasCorrection1;

        var second = expAvgSq;
        if (group.Flag("amsgrad"))
        {
            var maxSq = state.GetOrZeros("max_exp_avg_sq", param);
            maxSq.copy_(maxSq.maximum(expAvgSq));
            second = maxSq;
        }
        using var correction = biasCorrection2Sqrt.ToScalar();
        using var eps = group["eps"].ToScalar();
        using var step = (-stepSize).ToScalar();
        var denom = second.sqrt().div(correction).add_(eps, HeldScalars.One);
        param.addcdiv_(expAvg, denom, step);
    }
}

/// <summary>
/// AdamW: Adam with decoupled weight decay, p ← p·(1 − lr·weight_decay) before the Adam update
/// (Loshchilov and Hutter), instead of adding weight_decay·p to the gradient.
/// </summary>
public sealed class AdamW(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
    double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false)
    : Adam(nameof(AdamW), param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupledWeightDecay: true);
