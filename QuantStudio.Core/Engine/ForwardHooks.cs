using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>Forward pre-hooks as disposable handles (TorchSharp's remover is not <see cref="IDisposable"/>).</summary>
public static class ForwardHooks
{
    /// <summary>
    /// Replaces the layer's input by <paramref name="transform"/>(input) on every call (a null result keeps the
    /// input), until the handle is disposed.
    /// </summary>
    public static HookHandle AddInputTransform(this nn.Module<Tensor, Tensor> layer, Func<Tensor, Tensor?> transform)
    {
        var remover = layer.register_forward_pre_hook((_, x) => transform(x) ?? x);
        return new HookHandle(remover.remove);
    }

    /// <summary>Calls <paramref name="observe"/>(output) after every forward of the layer, until the handle is disposed.</summary>
    public static HookHandle AddOutputObserver(this nn.Module<Tensor, Tensor> layer, Action<Tensor> observe)
    {
        var remover = layer.register_forward_hook((_, _, y) =>
        {
            observe(y);
            return y;
        });
        return new HookHandle(remover.remove);
    }
}

/// <summary>Removes the hook it was returned for when disposed.</summary>
public sealed class HookHandle(Action remove) : IDisposable
{
    private Action? remove = remove;

    public void Dispose()
    {
        remove?.Invoke();
        remove = null;
    }
}

/// <summary>Registration that returns the child, so a field can be set and registered in one expression.</summary>
public static class ModuleRegistration
{
    public static T Registered<T>(this nn.Module owner, string name, T child) where T : nn.Module
    {
        owner.register_module(name, child);
        return child;
    }
}
