using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// State dicts with the checks a checkpoint from a user needs: TorchSharp's own
/// <c>load_state_dict</c> reports mismatches less precisely, and a value of the wrong shape must
/// never reach a native copy. Keys and order are PyTorch's (TorchSharp's <c>state_dict()</c>).
/// </summary>
public static class ModuleState
{
    /// <summary>Number of parameter elements (tensors shared between layers counted once).</summary>
    public static long NumParameters(this nn.Module module) =>
        module.parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().Sum(p => p.numel());

    /// <summary>Parameters and buffers under dotted names, as detached handles sharing storage with the module; dispose the dict when done.</summary>
    public static StateDict StateDictOf(this nn.Module module)
    {
        var dict = new StateDict();
        foreach (var (key, tensor) in module.state_dict())
            dict.Add(key, tensor.detach().DetachFromDisposeScope());
        return dict;
    }

    /// <summary>
    /// Copies values from <paramref name="source"/> into the module's tensors in place. Shape mismatches
    /// always fail; missing or unexpected keys fail when <paramref name="strict"/>. Everything is checked
    /// before anything is copied, and the error names every key that does not fit.
    /// </summary>
    public static LoadStateDictResult LoadStateDictChecked(this nn.Module module, IReadOnlyDictionary<string, Tensor> source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        var own = module.state_dict();
        var missing = own.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, target) in own)
        {
            if (source.TryGetValue(key, out var value) && !value.shape.SequenceEqual(target.shape))
                mismatched.Add($"{key}: checkpoint [{string.Join(", ", value.shape)}], model [{string.Join(", ", target.shape)}]");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictMismatchException(module.GetName(), missing, unexpected, mismatched);

        using (torch.no_grad())
        {
            foreach (var (key, target) in own)
                if (source.TryGetValue(key, out var value))
                    target.copy_(value);
        }
        return new LoadStateDictResult(missing, unexpected);
    }
}
