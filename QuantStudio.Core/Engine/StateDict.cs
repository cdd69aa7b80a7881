using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// Named tensors in a stable order: the checkpoint format of modules, optimizers and LR schedulers.
/// Each value is a handle this dictionary owns (a detached view of the live tensor unless cloned);
/// disposing the dictionary frees the handles, never the module's own tensors.
/// </summary>
public sealed class StateDict : OrderedDictionary<string, Tensor>, IDisposable
{
    public StateDict()
    {
    }

    /// <summary>A deep copy: values keep their contents even if the source tensors change afterwards.</summary>
    public StateDict Clone()
    {
        var copy = new StateDict();
        foreach (var (key, value) in this)
        {
            using var detached = value.detach();
            copy.Add(key, detached.clone().DetachFromDisposeScope());
        }
        return copy;
    }

    /// <summary>Adds every entry of <paramref name="other"/> under <paramref name="prefix"/> (e.g. "optimizer.") as new handles.</summary>
    public StateDict AddWithPrefix(string prefix, IEnumerable<KeyValuePair<string, Tensor>> other)
    {
        foreach (var (key, value) in other)
            Add(prefix + key, value.alias());
        return this;
    }

    /// <summary>The entries whose keys start with <paramref name="prefix"/>, with the prefix removed, as new handles.</summary>
    public StateDict WithoutPrefix(string prefix)
    {
        var sub = new StateDict();
        foreach (var (key, value) in this)
            if (key.StartsWith(prefix, StringComparison.Ordinal))
                sub.Add(key[prefix.Length..], value.alias());
        return sub;
    }

    public void Dispose()
    {
        foreach (var value in Values)
            value.Dispose();
        Clear();
    }
}

/// <summary>
/// A state dict that does not fit its target. The lists hold every missing and unexpected key and every shape
/// mismatch; the message counts them and names the first few. Nothing was loaded when this is thrown.
/// </summary>
public sealed class StateDictMismatchException : ArgumentException
{
    public StateDictMismatchException(string target, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Describe(target, missing, unexpected, mismatched))
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        ShapeMismatches = mismatched;
    }

    public IReadOnlyList<string> MissingKeys { get; }
    public IReadOnlyList<string> UnexpectedKeys { get; }
    /// <summary>One line per key whose shape differs: "key: checkpoint [a, b], model [c, d]".</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    /// <summary>How many names the message lists of each kind; the lists themselves are on the exception.</summary>
    public const int NamesShown = 3;

    private static string Describe(string target, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        // A wrong file can differ in every key: name a few of each kind and count the rest, so the message stays one readable line.
        static string Few(IReadOnlyList<string> items, Func<string, string> format, string separator) =>
            string.Join(separator, items.Take(NamesShown).Select(format)) + (items.Count > NamesShown ? $"{separator}and {items.Count - NamesShown} more" : "");
        var parts = new List<string>();
        if (missing.Count > 0)
            parts.Add($"{missing.Count} missing keys: " + Few(missing, k => $"\"{k}\"", ", "));
        if (unexpected.Count > 0)
            parts.Add($"{unexpected.Count} unexpected keys: " + Few(unexpected, k => $"\"{k}\"", ", "));
        if (mismatched.Count > 0)
            parts.Add($"{mismatched.Count} size mismatches: " + Few(mismatched, m => m, "; "));
        return $"error(s) in loading state_dict for {target}: {string.Join(". ", parts)}.";
    }
}

/// <summary>What a non-strict <see cref="Module.load_state_dict"/> skipped.</summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> missing_keys, IReadOnlyList<string> unexpected_keys);
