using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// What a caller hands an optimizer for one parameter group: the tensors and any options that
/// differ from the optimizer's defaults (e.g. a smaller lr, or no weight decay for biases).
/// </summary>
public sealed class ParamGroupSpec
{
    public ParamGroupSpec(IEnumerable<Tensor> parameters, double? lr = null, double? weight_decay = null, IReadOnlyDictionary<string, double>? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters.ToList();
        var merged = new Dictionary<string, double>(options ?? new Dictionary<string, double>(), StringComparer.Ordinal);
        if (lr is { } l)
            merged["lr"] = l;
        if (weight_decay is { } wd)
            merged["weight_decay"] = wd;
        this.options = merged;
    }

    public IReadOnlyList<Tensor> parameters { get; }
    public IReadOnlyDictionary<string, double> options { get; }
}

/// <summary>
/// One parameter group of an optimizer: its tensors and its hyperparameters. Every option is a
/// number (flags are 0 or 1) so that the whole optimizer state saves as named tensors.
/// Schedulers change <see cref="lr"/> between steps.
/// </summary>
public sealed class ParamGroup
{
    /// <summary>Set by the first LR scheduler attached to the optimizer: the lr its schedule starts from.</summary>
    public const string InitialLrOption = "initial_lr";

    private readonly OrderedDictionary<string, double> values;
    private readonly Action<string, double> validate;

    internal ParamGroup(IReadOnlyList<Tensor> parameters, OrderedDictionary<string, double> values, Action<string, double> validate)
    {
        this.parameters = parameters;
        this.values = values;
        this.validate = validate;
    }

    public IReadOnlyList<Tensor> parameters { get; }

    public double lr
    {
        get => this["lr"];
        set => this["lr"] = value;
    }

    public double? initial_lr
    {
        get => values.TryGetValue(InitialLrOption, out var v) ? v : null;
        set
        {
            if (value is { } v)
                this[InitialLrOption] = v;
            else
                values.Remove(InitialLrOption);
        }
    }

    /// <summary>An option by its PyTorch name ("lr", "momentum", "weight_decay", "beta1" ...).</summary>
    public double this[string option]
    {
        get => values.TryGetValue(option, out var v)
            ? v
            : throw new KeyNotFoundException($"no option '{option}' in this parameter group; it has {string.Join(", ", values.Keys)}");
        set
        {
            if (option != InitialLrOption && !values.ContainsKey(option))
                throw new ArgumentException($"unknown option '{option}'; this parameter group has {string.Join(", ", values.Keys)}", nameof(option));
            validate(option, value);
            values[option] = value;
        }
    }

    public IReadOnlyDictionary<string, double> options => values;

    internal bool Flag(string option) => this[option] != 0;
}

/// <summary>An optimizer's state for one parameter: its step count and named tensors (momentum_buffer, exp_avg ...).</summary>
public sealed class ParameterState : IDisposable
{
    private readonly OrderedDictionary<string, Tensor> tensors = new();

    public long step { get; set; }

    public IReadOnlyDictionary<string, Tensor> named_tensors => tensors;

    public bool TryGet(string name, out Tensor tensor) => tensors.TryGetValue(name, out tensor!);

    /// <summary>Stores <paramref name="tensor"/> under <paramref name="name"/>; the state owns it from now on.</summary>
    public Tensor Set(string name, Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        if (tensors.TryGetValue(name, out var old) && !ReferenceEquals(old, tensor))
            old.Dispose();
        tensors[name] = tensor;
        return tensor;
    }

    /// <summary>The tensor named <paramref name="name"/>, created as zeros shaped (and laid out) like <paramref name="like"/> on first use.</summary>
    public Tensor GetOrZeros(string name, Tensor like)
    {
        if (tensors.TryGetValue(name, out var t))
            return t;
        // clone keeps the parameter's memory format (channels_last conv weights stay channels_last).
        using var detached = like.detach();
        return Set(name, detached.clone().zero_());
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values)
            t.Dispose();
        tensors.Clear();
    }
}
