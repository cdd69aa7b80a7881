namespace QuantStudio.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost scope, and disposes
/// them all when it is disposed: a training step wrapped in a scope frees each intermediate
/// deterministically instead of waiting for the GC. Mirrors TorchSharp's <c>NewDisposeScope()</c>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly HashSet<Tensor> owned = new(ReferenceEqualityComparer.Instance);
    private readonly DisposeScope? outer;
    private bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    internal static DisposeScope? Current => current;

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int Count => owned.Count;

    internal void Add(Tensor t)
    {
        owned.Add(t);
        t.OwningScope = this;
    }

    internal void Remove(Tensor t) => owned.Remove(t);

    /// <summary>Hands <paramref name="t"/> to the enclosing scope (or to nobody), so it survives this one.</summary>
    public Tensor MoveToOuter(Tensor t)
    {
        if (t.OwningScope == this)
        {
            owned.Remove(t);
            t.OwningScope = null;
            outer?.Add(t);
        }
        return t;
    }

    /// <summary>Releases <paramref name="t"/> from every scope: the caller now owns it.</summary>
    public Tensor Detach(Tensor t)
    {
        if (t.OwningScope == this)
        {
            owned.Remove(t);
            t.OwningScope = null;
        }
        return t;
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var t in owned)
        {
            t.OwningScope = null;
            t.Dispose();
        }
        owned.Clear();
        // Scopes nest strictly per thread; restore the outer one even if an inner one leaked.
        if (current == this)
            current = outer;
    }
}
