namespace QuantStudio.Torch.Modules;

/// <summary>
/// Base of every layer and model, after PyTorch's <c>torch.nn.Module</c>: an ordered registry of
/// named parameters, buffers and child modules, a training flag, and state_dict round trips.
/// A module owns the tensors registered in it and frees them in <see cref="Dispose"/>.
/// </summary>
public abstract partial class Module : IDisposable
{
    private readonly OrderedDictionary<string, Tensor?> parameterSlots = new();
    private readonly OrderedDictionary<string, Tensor?> bufferSlots = new();
    private readonly HashSet<string> nonPersistentBuffers = new();
    private readonly OrderedDictionary<string, Module> childSlots = new();
    private bool disposed;

    protected Module(string? name = null)
    {
        this.name = name ?? GetType().Name;
    }

    /// <summary>The module's kind, used in error messages (the class name unless given).</summary>
    public string name { get; }

    public string GetName() => name;

    /// <summary>True in training mode (dropout active, batch norm uses and updates batch statistics).</summary>
    public bool training { get; private set; } = true;

    // ---- registration -----------------------------------------------------------------------

    /// <summary>
    /// Registers (or replaces) a parameter; null registers an absent one, as <c>bias=False</c> does.
    /// The module takes ownership: the tensor leaves any dispose scope and is freed with the module.
    /// </summary>
    public void register_parameter(string name, Tensor? parameter)
    {
        CheckSlotName(name, parameterSlots);
        if (parameter is not null && !parameter.is_leaf)
            throw new ArgumentException($"parameter '{name}' of {this.name} must be a leaf tensor (detach it, or build it with torch.nn.Parameter)", nameof(parameter));
        Replace(parameterSlots, name, parameter);
    }

    /// <summary>Registers (or replaces) a buffer: state that is saved but not trained (running statistics).</summary>
    public void register_buffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckSlotName(name, bufferSlots);
        Replace(bufferSlots, name, buffer);
        if (persistent)
            nonPersistentBuffers.Remove(name);
        else
            nonPersistentBuffers.Add(name);
    }

    /// <summary>Registers (or replaces) a child module under <paramref name="name"/> and returns it.</summary>
    public T register_module<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckSlotName(name, childSlots);
        if (ReferenceEquals(module, this))
            throw new ArgumentException($"{this.name} cannot be its own child", nameof(module));
        childSlots[name] = module;
        return module;
    }

    /// <summary>The parameter registered as <paramref name="name"/> on this module (not its children), or null.</summary>
    public Tensor? get_parameter(string name) =>
        parameterSlots.TryGetValue(name, out var p) ? p : throw new KeyError($"{this.name} has no parameter '{name}'");

    public Tensor? get_buffer(string name) =>
        bufferSlots.TryGetValue(name, out var b) ? b : throw new KeyError($"{this.name} has no buffer '{name}'");

    // ---- traversal --------------------------------------------------------------------------

    /// <summary>Parameters with dotted names (<c>features.0.weight</c>), each tensor once, in registration order.</summary>
    public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true) =>
        NamedTensors(m => m.parameterSlots, recurse);

    public IEnumerable<Tensor> parameters(bool recurse = true) => named_parameters(recurse).Select(p => p.parameter);

    public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true) =>
        NamedTensors(m => m.bufferSlots, recurse);

    public IEnumerable<Tensor> buffers(bool recurse = true) => named_buffers(recurse).Select(b => b.buffer);

    public IEnumerable<(string name, Module module)> named_children() => childSlots.Select(kv => (kv.Key, kv.Value)).ToList();

    public IEnumerable<Module> children() => childSlots.Values.ToList();

    /// <summary>This module (named "") and every descendant, depth first, each once.</summary>
    public IEnumerable<(string name, Module module)> named_modules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var result = new List<(string, Module)>();
        CollectModules("", this, seen, result);
        return result;
    }

    public IEnumerable<Module> modules() => named_modules().Select(m => m.module);

    private static void CollectModules(string prefix, Module module, HashSet<Module> seen, List<(string, Module)> into)
    {
        if (!seen.Add(module))
            return;
        into.Add((prefix, module));
        foreach (var (childName, child) in module.childSlots)
            CollectModules(prefix.Length == 0 ? childName : prefix + "." + childName, child, seen, into);
    }

    private List<(string name, Tensor tensor)> NamedTensors(Func<Module, OrderedDictionary<string, Tensor?>> slots, bool recurse)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var result = new List<(string, Tensor)>();
        var owners = recurse ? named_modules() : [("", this)];
        foreach (var (prefix, module) in owners)
        {
            foreach (var (slot, tensor) in slots(module))
            {
                if (tensor is null)
                    continue;
                if (seen.Add(tensor))
                    result.Add((prefix.Length == 0 ? slot : prefix + "." + slot, tensor));
            }
        }
        return result;
    }

    // ---- modes and gradients ----------------------------------------------------------------

    /// <summary>Sets training mode on this module and every descendant.</summary>
    public virtual void train(bool on = true)
    {
        foreach (var module in modules())
            module.training = on;
    }

    /// <summary>Evaluation mode: dropout off, batch norm uses its running statistics.</summary>
    public void eval() => train(false);

    /// <summary>Clears every parameter's gradient (to none by default, as PyTorch 2 does).</summary>
    public void zero_grad(bool set_to_none = true)
    {
        foreach (var p in parameters())
            p.zero_grad(set_to_none);
    }

    /// <summary>Number of parameter elements (shared tensors counted once).</summary>
    public long num_parameters(bool only_trainable = false) =>
        parameters().Where(p => !only_trainable || p.requires_grad).Sum(p => p.numel());

    // ---- conversions ------------------------------------------------------------------------

    /// <summary>
    /// Rewrites every 4-d parameter and buffer (conv weights) in <paramref name="format"/>, in place:
    /// tensors keep their identity, so an optimizer built earlier still updates them.
    /// </summary>
    internal void ConvertMemoryFormat(MemoryFormat format) =>
        ConvertTensors(t => t.dim() == 4, t => t.contiguous(format));

    /// <summary>Converts floating-point parameters and buffers to <paramref name="type"/>, in place.</summary>
    internal void ConvertDtype(ScalarType type)
    {
        if (!type.IsFloatingPoint())
            throw new ArgumentException($"modules can only be converted to a floating-point dtype, not {type}", nameof(type));
        ConvertTensors(t => t.dtype.IsFloatingPoint(), t => t.to_type(type));
    }

    internal void ConvertDevice(Device device) => ConvertTensors(_ => true, t => t.to(device));

    private void ConvertTensors(Func<Tensor, bool> applies, Func<Tensor, Tensor> convert)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var t in named_parameters().Select(p => p.parameter).Concat(buffers()))
        {
            if (!applies(t))
                continue;
            t.set_data(convert(t));
            // A gradient in the old layout or dtype could not accumulate into the new data.
            var g = t.grad;
            if (g is not null)
                t.grad = convert(g);
        }
    }

    // ---- lifetime ---------------------------------------------------------------------------

    /// <summary>Frees every parameter and buffer of this module and its descendants.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposed || !disposing)
            return;
        disposed = true;
        foreach (var child in childSlots.Values)
            child.Dispose();
        foreach (var t in parameterSlots.Values.Concat(bufferSlots.Values))
            t?.Dispose();
    }

    // ---- helpers ----------------------------------------------------------------------------

    /// <summary>Replaces a tensor slot; the module owns the new tensor and frees the one it replaces.</summary>
    private static void Replace(OrderedDictionary<string, Tensor?> slots, string name, Tensor? value)
    {
        value?.DetachFromDisposeScope();
        if (slots.TryGetValue(name, out var old) && old is not null && !ReferenceEquals(old, value))
            old.Dispose();
        slots[name] = value;
    }

    private void CheckSlotName<T>(string name, OrderedDictionary<string, T> target)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid name in {this.name}: names must be non-empty and contain no '.'", nameof(name));
        var takenElsewhere =
            (!ReferenceEquals(target, parameterSlots) && parameterSlots.ContainsKey(name)) ||
            (!ReferenceEquals(target, bufferSlots) && bufferSlots.ContainsKey(name)) ||
            (!ReferenceEquals(target, childSlots) && childSlots.ContainsKey(name));
        if (takenElsewhere)
            throw new ArgumentException($"{this.name} already has a parameter, buffer or child named '{name}'", nameof(name));
    }

    public override string ToString() => name;
}

/// <summary>Raised for a lookup of a name a module does not have (Python's KeyError).</summary>
public sealed class KeyError(string message) : KeyNotFoundException(message);
