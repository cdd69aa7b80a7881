using System.Globalization;

using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Optim;

/// <summary>
/// Base of the optimizers, after <c>torch.optim.Optimizer</c>: parameter groups with their own
/// options, lazily created per-parameter state, and a state dict of named tensors that restores a
/// run exactly. Each step runs under no_grad inside its own dispose scope, so its temporaries are
/// freed before it returns.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<ParamGroup> groups = new();
    private readonly Dictionary<Tensor, ParameterState> states = new(ReferenceEqualityComparer.Instance);
    private readonly OrderedDictionary<string, double> defaults;
    private bool disposed;

    protected Optimizer(string name, IEnumerable<ParamGroupSpec> param_groups, OrderedDictionary<string, double> defaults)
    {
        this.name = name;
        this.defaults = defaults;
        foreach (var (option, value) in defaults)
            ValidateOption(option, value);
        foreach (var spec in param_groups)
            add_param_group(spec);
        if (groups.Sum(g => g.parameters.Count) == 0)
            throw new ArgumentException($"{name} got an empty parameter list", nameof(param_groups));
    }

    /// <summary>The optimizer's kind, used in error messages.</summary>
    public string name { get; }

    public IReadOnlyList<ParamGroup> param_groups => groups;

    /// <summary>The option names a group of this optimizer has, with their defaults.</summary>
    public IReadOnlyDictionary<string, double> default_options => defaults;

    /// <summary>Names of the per-parameter state tensors this optimizer keeps (e.g. momentum_buffer).</summary>
    protected abstract IReadOnlyCollection<string> StateTensorNames { get; }

    /// <summary>Checks one option value, naming it and its allowed range.</summary>
    protected abstract void ValidateOption(string option, double value);

    /// <summary>Checks the combination of a group's options (e.g. Nesterov needs momentum).</summary>
    protected virtual void ValidateGroup(IReadOnlyDictionary<string, double> options)
    {
    }

    /// <summary>Updates one parameter in place from its gradient. Runs under no_grad inside the step's dispose scope.</summary>
    protected abstract void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state);

    public void add_param_group(ParamGroupSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var known = new HashSet<Tensor>(groups.SelectMany(g => g.parameters), ReferenceEqualityComparer.Instance);
        foreach (var p in spec.parameters)
        {
            if (!p.is_leaf)
                throw new ArgumentException($"{name} can't optimize a non-leaf tensor", nameof(spec));
            if (!p.dtype.IsFloatingPoint())
                throw new ArgumentException($"{name} can only optimize floating-point tensors, got {p.dtype}", nameof(spec));
            if (!known.Add(p))
                throw new ArgumentException($"some parameters appear in more than one parameter group of {name}", nameof(spec));
        }
        var values = new OrderedDictionary<string, double>();
        foreach (var (option, value) in defaults)
            values[option] = value;
        foreach (var (option, value) in spec.options)
        {
            if (!defaults.ContainsKey(option))
                throw new ArgumentException($"{name} has no option '{option}'; its options are {string.Join(", ", defaults.Keys)}", nameof(spec));
            ValidateOption(option, value);
            values[option] = value;
        }
        ValidateGroup(values);
        groups.Add(new ParamGroup(spec.parameters, values, ValidateOption));
    }

    /// <summary>
    /// One update of every parameter that has a gradient. A closure, if given, is evaluated first with
    /// gradients enabled (it should zero the gradients, compute the loss and call backward) and its
    /// loss is returned.
    /// </summary>
    public Tensor? step(Func<Tensor>? closure = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Tensor? loss = null;
        if (closure is not null)
        {
            using var grad = torch.enable_grad();
            loss = closure();
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var group in groups)
        {
            ValidateGroup(group.options);
            foreach (var p in group.parameters)
            {
                var g = p.grad;
                if (g is null)
                    continue;
                if (!states.TryGetValue(p, out var state))
                    states[p] = state = new ParameterState();
                Update(group, p, g, state);
            }
        }
        return loss;
    }

    /// <summary>Clears the gradients of every parameter (to none by default, as PyTorch 2 does).</summary>
    public void zero_grad(bool set_to_none = true)
    {
        foreach (var p in groups.SelectMany(g => g.parameters))
        {
            using var g = p.grad;
            if (g is null)
                continue;
            if (set_to_none)
            {
                p.grad = null!;
            }
            else
            {
                using var noGrad = torch.no_grad();
                g.zero_();
            }
        }
    }

    /// <summary>The state of <paramref name="param"/>, or null before its first update.</summary>
    public ParameterState? state(Tensor param) => states.GetValueOrDefault(param);

    // ---- checkpointing ----------------------------------------------------------------------

    /// <summary>
    /// The optimizer's state as named tensors, after PyTorch's layout: per group
    /// <c>param_groups.{g}.{option}</c> (float64 scalars) and <c>param_groups.{g}.params</c> (the
    /// parameters' indices in group order), and per parameter <c>state.{i}.step</c> (int64) and
    /// <c>state.{i}.{name}</c> (views of the live state tensors; clone the dict to snapshot it).
    /// </summary>
    public StateDict state_dict()
    {
        var dict = new StateDict();
        var index = 0L;
        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var (option, value) in groups[g].options)
                dict.Add(GroupKey(g, option), torch.tensor(value, ScalarType.Float64));
            var indices = new long[groups[g].parameters.Count];
            for (var i = 0; i < indices.Length; i++)
                indices[i] = index++;
            dict.Add(GroupKey(g, "params"), torch.tensor(indices));
        }
        var flat = groups.SelectMany(g => g.parameters).ToList();
        for (var i = 0; i < flat.Count; i++)
        {
            if (!states.TryGetValue(flat[i], out var s))
                continue;
            dict.Add(StateKey(i, "step"), torch.tensor((long)s.step));
            foreach (var (tensorName, t) in s.named_tensors)
                dict.Add(StateKey(i, tensorName), t.detach());
        }
        return dict;
    }

    /// <summary>
    /// Restores options and per-parameter state saved by <see cref="state_dict"/> from an optimizer of
    /// the same kind over the same parameter layout. Everything is checked first; on a mismatch
    /// nothing changes and the exception names every offending key.
    /// </summary>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(disposed, this);
        var flat = groups.SelectMany(g => g.parameters).ToList();
        var missing = new List<string>();
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        var expectedGroupKeys = new HashSet<string>(StringComparer.Ordinal);

        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var option in groups[g].options.Keys.Append("params"))
            {
                expectedGroupKeys.Add(GroupKey(g, option));
                if (option != ParamGroup.InitialLrOption && !source.ContainsKey(GroupKey(g, option)))
                    missing.Add(GroupKey(g, option));
            }
            // initial_lr appears once a scheduler has been attached; it may be saved without being set here.
            expectedGroupKeys.Add(GroupKey(g, ParamGroup.InitialLrOption));
            if (source.TryGetValue(GroupKey(g, "params"), out var ids) && ids.numel() != groups[g].parameters.Count)
                mismatched.Add($"{GroupKey(g, "params")}: checkpoint group has {ids.numel()} parameters, optimizer group has {groups[g].parameters.Count}");
        }

        var loadedStates = new SortedDictionary<int, List<(string name, Tensor value)>>();
        foreach (var (key, value) in source)
        {
            if (key.StartsWith("param_groups.", StringComparison.Ordinal))
            {
                if (!expectedGroupKeys.Contains(key))
                    unexpected.Add(key);
                else if (!key.EndsWith(".params", StringComparison.Ordinal) && value.numel() != 1)
                    mismatched.Add($"{key}: an option must be a scalar, got shape [{string.Join(", ", value.shape)}]");
                continue;
            }
            if (!TryParseStateKey(key, out var index, out var tensorName) || index >= flat.Count ||
                (tensorName != "step" && !StateTensorNames.Contains(tensorName)))
            {
                unexpected.Add(key);
                continue;
            }
            var want = tensorName == "step" ? [] : flat[index].shape;
            if (!value.shape.SequenceEqual(want))
                mismatched.Add($"{key}: checkpoint [{string.Join(", ", value.shape)}], optimizer [{string.Join(", ", want)}]");
            if (!loadedStates.TryGetValue(index, out var list))
                loadedStates[index] = list = new List<(string, Tensor)>();
            list.Add((tensorName, value));
        }
        foreach (var (index, entries) in loadedStates)
            if (!entries.Any(e => e.name == "step"))
                missing.Add(StateKey(index, "step"));

        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
            throw new StateDictMismatchException(name, missing, unexpected, mismatched);

        // Validate option values before changing anything, so a bad value leaves the optimizer as it was.
        var newOptions = new List<(ParamGroup group, string option, double value)>();
        for (var g = 0; g < groups.Count; g++)
        {
            var merged = new Dictionary<string, double>(groups[g].options, StringComparer.Ordinal);
            foreach (var option in groups[g].options.Keys.Append(ParamGroup.InitialLrOption).Distinct())
            {
                if (!source.TryGetValue(GroupKey(g, option), out var t))
                    continue;
                var value = t.AsDouble();
                ValidateOption(option, value);
                merged[option] = value;
                newOptions.Add((groups[g], option, value));
            }
            ValidateGroup(merged);
        }

        foreach (var (group, option, value) in newOptions)
            group[option] = value;
        foreach (var s in states.Values)
            s.Dispose();
        states.Clear();
        using var noGrad = torch.no_grad();
        foreach (var (index, entries) in loadedStates)
        {
            var param = flat[index];
            var s = new ParameterState();
            foreach (var (tensorName, value) in entries)
            {
                if (tensorName == "step")
                {
                    s.step = value.AsInt64();
                    continue;
                }
                // A copy laid out and typed like the parameter, as PyTorch casts loaded state to the parameter's dtype.
                using var detached = param.detach();
                var copy = detached.clone();
                copy.copy_(value);
                s.Set(tensorName, copy);
            }
            states[param] = s;
        }
    }

    private static string GroupKey(int group, string option) => $"param_groups.{group.ToString(CultureInfo.InvariantCulture)}.{option}";

    private static string StateKey(int index, string tensorName) => $"state.{index.ToString(CultureInfo.InvariantCulture)}.{tensorName}";

    private static bool TryParseStateKey(string key, out int index, out string tensorName)
    {
        index = -1;
        tensorName = "";
        var parts = key.Split('.', 3);
        if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out index))
            return false;
        tensorName = parts[2];
        return true;
    }

    // ---- option checks shared by the optimizers -----------------------------------------------

    protected static void RequireNonNegative(string option, double value)
    {
        if (!(value >= 0))
            throw new ArgumentOutOfRangeException(option, value, $"{option} must be >= 0");
    }

    protected static void RequireFlag(string option, double value)
    {
        if (value is not (0 or 1))
            throw new ArgumentOutOfRangeException(option, value, $"{option} is a flag: 0 or 1");
    }

    protected static OrderedDictionary<string, double> Options(params (string name, double value)[] options)
    {
        var d = new OrderedDictionary<string, double>();
        foreach (var (n, v) in options)
            d.Add(n, v);
        return d;
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var s in states.Values)
            s.Dispose();
        states.Clear();
        GC.SuppressFinalize(this);
    }
}
