using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// Stochastic gradient descent with PyTorch's semantics: d = g + weight_decay·p; with momentum the
/// buffer starts as d on the first step and then b = momentum·b + (1 − dampening)·d; Nesterov uses
/// d + momentum·b, plain momentum uses b; finally p −= lr·d.
/// </summary>
public sealed class SGD : Optimizer
{
    private static readonly string[] StateNames = ["momentum_buffer"];

    public SGD(IEnumerable<ParamGroupSpec> param_groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false)
        : base(nameof(SGD), param_groups, Options(
            ("lr", lr), ("momentum", momentum), ("dampening", dampening), ("weight_decay", weight_decay),
            ("nesterov", nesterov ? 1 : 0), ("maximize", maximize ? 1 : 0)))
    {
    }

    protected override IReadOnlyCollection<string> StateTensorNames => StateNames;

    protected override void ValidateOption(string option, double value)
    {
        switch (option)
        {
            case "lr" or "initial_lr" or "momentum" or "weight_decay":
                RequireNonNegative(option, value);
                break;
            case "dampening":
                if (!double.IsFinite(value))
                    throw new ArgumentOutOfRangeException(option, value, "dampening must be finite");
                break;
            case "nesterov" or "maximize":
                RequireFlag(option, value);
                break;
        }
    }

    protected override void ValidateGroup(IReadOnlyDictionary<string, double> options)
    {
        if (options["nesterov"] != 0 && (options["momentum"] <= 0 || options["dampening"] != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening", "nesterov");
    }

    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        var momentum = group["momentum"];
        var weightDecay = group["weight_decay"];
        // Each Scalar held for the call (see HeldScalars).
        using var decay = weightDecay.ToScalar();
        using var beta = momentum.ToScalar();
        using var undamped = (1 - group["dampening"]).ToScalar();
        using var descent = (-group.lr).ToScalar();
        var d = group.Flag("maximize") ? grad.neg() : grad;
        if (weightDecay != 0)
            d = d.add(param, decay);
        if (momentum != 0)
        {
            if (state.TryGet("momentum_buffer", out var buffer))
                buffer.mul_(beta).add_(d, undamped);
            else
                buffer = state.Set("momentum_buffer", d.clone());
            d = group.Flag("nesterov") ? d.add(buffer, beta) : buffer;
        }
        state.step++;
        param.add_(d, descent);
    }
}
