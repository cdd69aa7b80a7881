using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>Factories of our optimizers and schedules, with PyTorch's names and defaults.</summary>
public static class Optimizers
{
    public static SGD SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false) =>
        new([new ParamGroupSpec(parameters)], lr, momentum, dampening, weight_decay, nesterov, maximize);

    /// <summary>Several groups; options a group leaves unset take the values given here.</summary>
    public static SGD SGD(IEnumerable<ParamGroupSpec> param_groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false) =>
        new(param_groups, lr, momentum, dampening, weight_decay, nesterov, maximize);

    public static Adam Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
        new([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

    public static Adam Adam(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
        new(param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

    public static AdamW AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
        new([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

    public static AdamW AdamW(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
        new(param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);
}

/// <summary>Learning-rate schedules with PyTorch's names: <c>LRSchedules.StepLR(optimizer, 30, 0.1)</c>.</summary>
public static class LRSchedules
{
    public static StepLR StepLR(Optimizer optimizer, long step_size, double gamma = 0.1) => new(optimizer, step_size, gamma);

    public static MultiStepLR MultiStepLR(Optimizer optimizer, IEnumerable<long> milestones, double gamma = 0.1) =>
        new(optimizer, milestones, gamma);

    public static CosineAnnealingLR CosineAnnealingLR(Optimizer optimizer, long T_max, double eta_min = 0) =>
        new(optimizer, T_max, eta_min);

    /// <summary>Warm-up to the base lr over <paramref name="warmup_steps"/>, then constant.</summary>
    public static LinearWarmup LinearWarmup(Optimizer optimizer, long warmup_steps, double start_factor = 1.0 / 3) =>
        new(optimizer, warmup_steps, start_factor);

    /// <summary>Warm-up over <paramref name="warmup_steps"/>, then <paramref name="after"/> from its epoch 0.</summary>
    public static LinearWarmup LinearWarmup(LRScheduler after, long warmup_steps, double start_factor = 1.0 / 3) =>
        new(after, warmup_steps, start_factor);

    /// <summary><paramref name="schedule"/> entered at its epoch <paramref name="offset"/>.</summary>
    public static OffsetLR Offset(LRScheduler schedule, long offset) => new(schedule, offset);
}
