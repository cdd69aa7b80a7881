namespace QuantStudio.Torch.Modules;

// state_dict / load_state_dict with PyTorch's key names and order.
public abstract partial class Module
{
    /// <summary>
    /// Parameters and persistent buffers under dotted names, in PyTorch's order (a module's own
    /// parameters, then its buffers, then each child's). Values are detached handles that share
    /// storage with the module (clone the dict to snapshot it); dispose the dict when done.
    /// </summary>
    public StateDict state_dict()
    {
        var dict = new StateDict();
        foreach (var (key, tensor) in StateEntries())
            dict.Add(key, tensor.detach());
        return dict;
    }

    /// <summary>
    /// Copies values from <paramref name="source"/> into this module's tensors in place (the tensors
    /// keep their identity). Shape mismatches always fail; missing or unexpected keys fail when
    /// <paramref name="strict"/>. Everything is checked before anything is copied.
    /// </summary>
    public LoadStateDictResult load_state_dict(IReadOnlyDictionary<string, Tensor> source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        var own = StateEntries();
        var ownKeys = own.Select(e => e.name).ToHashSet(StringComparer.Ordinal);
        var missing = own.Where(e => !source.ContainsKey(e.name)).Select(e => e.name).ToList();
        var unexpected = source.Keys.Where(k => !ownKeys.Contains(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, target) in own)
        {
            if (!source.TryGetValue(key, out var value))
                continue;
            var have = value.shape;
            var want = target.shape;
            if (!have.SequenceEqual(want))
                mismatched.Add($"{key}: checkpoint [{string.Join(", ", have)}], model [{string.Join(", ", want)}]");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictMismatchException(name, missing, unexpected, mismatched);

        using (torch.no_grad())
        {
            foreach (var (key, target) in own)
                if (source.TryGetValue(key, out var value))
                    target.copy_(value);
        }
        return new LoadStateDictResult(missing, unexpected);
    }

    private List<(string name, Tensor tensor)> StateEntries()
    {
        // Per module: own parameters, then own persistent buffers; children follow in named_modules order.
        var entries = new List<(string, Tensor)>();
        // Tied tensors appear under each name, as in PyTorch.
        foreach (var (prefix, module) in named_modules())
        {
            var p = prefix.Length == 0 ? "" : prefix + ".";
            foreach (var (slot, t) in module.parameterSlots)
                if (t is not null)
                    entries.Add((p + slot, t));
            foreach (var (slot, t) in module.bufferSlots)
                if (t is not null && !module.nonPersistentBuffers.Contains(slot))
                    entries.Add((p + slot, t));
        }
        return entries;
    }
}
