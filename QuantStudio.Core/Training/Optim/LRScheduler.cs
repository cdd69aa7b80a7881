using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// Base of the learning-rate schedules. Each schedule is a closed-form function of the epoch (or
/// step) count, so its whole state is <see cref="last_epoch"/> and the base learning rates, and a
/// restored schedule continues with exactly the lrs it would have produced.
/// As in PyTorch, construction applies epoch 0 and each <see cref="step"/> advances by one.
/// </summary>
public abstract class LRScheduler
{
    private double[] baseLrs;
    private double[] lastLrs = [];

    protected LRScheduler(string name, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        this.name = name;
        this.optimizer = optimizer;
        // The first schedule attached records each group's starting lr; later ones (and restarts) start from it.
        foreach (var group in optimizer.param_groups)
            group.initial_lr ??= group.lr;
        baseLrs = optimizer.param_groups.Select(g => g.initial_lr!.Value).ToArray();
        last_epoch = -1;
    }

    public string name { get; }
    public Optimizer optimizer { get; }

    /// <summary>The count of <see cref="step"/> calls since construction (0 right after it).</summary>
    public long last_epoch { get; private set; }

    /// <summary>Each group's lr at epoch 0, the value the schedule scales.</summary>
    public IReadOnlyList<double> base_lrs => baseLrs;

    /// <summary>The learning rate this schedule gives a group with <paramref name="base_lr"/> at <paramref name="epoch"/>.</summary>
    public abstract double lr_at(long epoch, double base_lr);

    /// <summary>Applies epoch 0; each concrete schedule calls it at the end of its constructor, once its fields are set.</summary>
    protected void InitialStep() => step();

    /// <summary>Advances one epoch (or step) and sets every group's lr.</summary>
    public void step()
    {
        last_epoch++;
        Apply();
    }

    /// <summary>The lrs set by the last <see cref="step"/>, one per parameter group.</summary>
    public IReadOnlyList<double> get_last_lr() => lastLrs;

    /// <summary>For wrappers that drive this schedule: follow their epoch (and drive its own wrapped schedule) without touching the optimizer.</summary>
    internal void Follow(long epoch)
    {
        last_epoch = epoch;
        OnEpoch(epoch);
    }

    /// <summary>Called with the new epoch before the lrs are computed.</summary>
    protected virtual void OnEpoch(long epoch)
    {
    }

    private void Apply()
    {
        var groups = optimizer.param_groups;
        if (groups.Count != baseLrs.Length)
            throw new InvalidOperationException($"{name} was built for {baseLrs.Length} parameter groups but the optimizer now has {groups.Count}");
        OnEpoch(last_epoch);
        lastLrs = new double[groups.Count];
        for (var g = 0; g < groups.Count; g++)
            groups[g].lr = lastLrs[g] = lr_at(last_epoch, baseLrs[g]);
    }

    /// <summary><c>last_epoch</c> (int64 scalar) and <c>base_lrs</c> (float64, one per group).</summary>
    public StateDict state_dict()
    {
        var dict = new StateDict();
        dict.Add("last_epoch", torch.tensor((long)last_epoch));
        dict.Add("base_lrs", torch.tensor(baseLrs));
        return dict;
    }

    /// <summary>
    /// Restores <c>last_epoch</c> and <c>base_lrs</c> and sets the optimizer's lrs to the restored
    /// epoch's values. Hyperparameters (step_size, T_max ...) come from the constructor.
    /// </summary>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string[] expected = ["last_epoch", "base_lrs"];
        var missing = expected.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !expected.Contains(k)).ToList();
        var mismatched = new List<string>();
        if (source.TryGetValue("last_epoch", out var epoch) && epoch.numel() != 1)
            mismatched.Add($"last_epoch: checkpoint [{string.Join(", ", epoch.shape)}], scheduler []");
        if (source.TryGetValue("base_lrs", out var lrs) && !lrs.shape.SequenceEqual([baseLrs.Length]))
            mismatched.Add($"base_lrs: checkpoint [{string.Join(", ", lrs.shape)}], scheduler [{baseLrs.Length}]");
        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
            throw new StateDictMismatchException(name, missing, unexpected, mismatched);

        var restoredEpoch = epoch!.AsInt64();
        if (restoredEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(source), restoredEpoch, "last_epoch must be >= 0");
        using var asDouble = lrs!.to_type(ScalarType.Float64);
        baseLrs = asDouble.data<double>().ToArray();
        last_epoch = restoredEpoch;
        Apply();
    }
}
