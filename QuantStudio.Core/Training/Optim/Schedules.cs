using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>lr = base · gamma^⌊epoch / step_size⌋.</summary>
public sealed class StepLR : LRScheduler
{
    public StepLR(Optimizer optimizer, long step_size, double gamma = 0.1) : base(nameof(StepLR), optimizer)
    {
        if (step_size <= 0)
            throw new ArgumentOutOfRangeException(nameof(step_size), step_size, "step_size must be positive");
        ScheduleChecks.Gamma(gamma);
        this.step_size = step_size;
        this.gamma = gamma;
        InitialStep();
    }

    public long step_size { get; }
    public double gamma { get; }

    public override double lr_at(long epoch, double base_lr) => base_lr * Math.Pow(gamma, epoch / step_size);
}

/// <summary>lr = base · gamma^(number of milestones ≤ epoch); a repeated milestone decays twice, as in PyTorch.</summary>
public sealed class MultiStepLR : LRScheduler
{
    private readonly long[] milestones;

    public MultiStepLR(Optimizer optimizer, IEnumerable<long> milestones, double gamma = 0.1) : base(nameof(MultiStepLR), optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        this.milestones = milestones.Order().ToArray();
        if (this.milestones.Length > 0 && this.milestones[0] < 0)
            throw new ArgumentOutOfRangeException(nameof(milestones), this.milestones[0], "milestones must be >= 0");
        ScheduleChecks.Gamma(gamma);
        this.gamma = gamma;
        InitialStep();
    }

    public IReadOnlyList<long> Milestones => milestones;
    public double gamma { get; }

    public override double lr_at(long epoch, double base_lr) => base_lr * Math.Pow(gamma, milestones.Count(m => m <= epoch));
}

/// <summary>lr = eta_min + (base − eta_min)·(1 + cos(π·epoch / T_max)) / 2 (SGDR without restarts).</summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    public CosineAnnealingLR(Optimizer optimizer, long T_max, double eta_min = 0) : base(nameof(CosineAnnealingLR), optimizer)
    {
        if (T_max <= 0)
            throw new ArgumentOutOfRangeException(nameof(T_max), T_max, "T_max must be positive");
        if (!(eta_min >= 0))
            throw new ArgumentOutOfRangeException(nameof(eta_min), eta_min, "eta_min must be >= 0");
        this.T_max = T_max;
        this.eta_min = eta_min;
        InitialStep();
    }

    public long T_max { get; }
    public double eta_min { get; }

    public override double lr_at(long epoch, double base_lr) =>
        eta_min + (base_lr - eta_min) * (1 + Math.Cos(Math.PI * epoch / T_max)) / 2;
}

/// <summary>
/// Linear warm-up, optionally followed by another schedule: for epoch &lt; warmup_steps,
/// lr = base · (start_factor + (1 − start_factor) · epoch / warmup_steps) (PyTorch's LinearLR); from
/// then on, the wrapped schedule's lr at (epoch − warmup_steps), or the base lr when there is none.
/// This is PyTorch's SequentialLR([LinearLR, after], milestones=[warmup_steps]). Step the warm-up
/// only: it drives the wrapped schedule.
/// </summary>
public sealed class LinearWarmup : LRScheduler
{
    public LinearWarmup(Optimizer optimizer, long warmup_steps, double start_factor = 1.0 / 3) : this(optimizer, null, warmup_steps, start_factor)
    {
    }

    public LinearWarmup(LRScheduler after, long warmup_steps, double start_factor = 1.0 / 3) : this(after.optimizer, after, warmup_steps, start_factor)
    {
    }

    private LinearWarmup(Optimizer optimizer, LRScheduler? after, long warmup_steps, double start_factor) : base(nameof(LinearWarmup), optimizer)
    {
        if (warmup_steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(warmup_steps), warmup_steps, "warmup_steps must be positive");
        if (!(start_factor > 0 && start_factor <= 1))
            throw new ArgumentOutOfRangeException(nameof(start_factor), start_factor, "start_factor must be in (0, 1]");
        this.after = after;
        this.warmup_steps = warmup_steps;
        this.start_factor = start_factor;
        InitialStep();
    }

    public LRScheduler? after { get; }
    public long warmup_steps { get; }
    public double start_factor { get; }

    protected override void OnEpoch(long epoch) => after?.Follow(Math.Max(0, epoch - warmup_steps));

    public override double lr_at(long epoch, double base_lr)
    {
        if (epoch < warmup_steps)
            return base_lr * (start_factor + (1 - start_factor) * epoch / warmup_steps);
        return after?.lr_at(epoch - warmup_steps, base_lr) ?? base_lr;
    }
}

/// <summary>
/// Another schedule entered part-way: lr = inner lr at (offset + epoch). A training run split into
/// phases that each build a fresh optimizer uses it to continue one schedule across them instead of
/// restarting it at the peak. Its state is its own <see cref="LRScheduler.last_epoch"/>, counted from
/// the entry point; the offset comes from the constructor, so a restored schedule continues exactly.
/// Step the offset schedule only: it drives the wrapped one.
/// </summary>
public sealed class OffsetLR : LRScheduler
{
    public OffsetLR(LRScheduler inner, long offset) : base(nameof(OffsetLR), inner.optimizer)
    {
        if (offset < 0)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "offset must be >= 0");
        this.inner = inner;
        this.offset = offset;
        InitialStep();
    }

    public LRScheduler inner { get; }
    public long offset { get; }

    protected override void OnEpoch(long epoch) => inner.Follow(offset + epoch);

    public override double lr_at(long epoch, double base_lr) => inner.lr_at(offset + epoch, base_lr);
}

internal static class ScheduleChecks
{
    public static void Gamma(double gamma)
    {
        if (!(gamma > 0) || !double.IsFinite(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive number");
    }
}
