namespace QuantStudio.Torch.Modules;

/// <summary>
/// A module with a typed forward pass. Call it through <see cref="call"/> so that forward hooks run;
/// hooks let later code observe or replace a layer's input and output (activation quantization,
/// statistics for snapshots) without editing the model.
/// </summary>
public abstract class Module<TInput, TOutput> : Module
{
    private readonly List<(int id, Func<Module<TInput, TOutput>, TInput, TInput?> hook)> preHooks = new();
    private readonly List<(int id, Func<Module<TInput, TOutput>, TInput, TOutput, TOutput?> hook)> postHooks = new();
    private int nextHookId;

    protected Module(string? name = null) : base(name)
    {
    }

    public abstract TOutput forward(TInput input);

    /// <summary>Runs the pre-hooks, <see cref="forward"/>, then the hooks, in registration order.</summary>
    public TOutput call(TInput input)
    {
        foreach (var (_, hook) in preHooks.ToArray())
        {
            var replaced = hook(this, input);
            if (replaced is not null)
                input = replaced;
        }
        var output = forward(input);
        foreach (var (_, hook) in postHooks.ToArray())
        {
            var replaced = hook(this, input, output);
            if (replaced is not null)
                output = replaced;
        }
        return output;
    }

    /// <summary>Runs before forward; a non-null result replaces the input. Dispose the handle to remove the hook.</summary>
    public HookHandle register_forward_pre_hook(Func<Module<TInput, TOutput>, TInput, TInput?> hook)
    {
        var id = nextHookId++;
        preHooks.Add((id, hook));
        return new HookHandle(() => preHooks.RemoveAll(h => h.id == id));
    }

    /// <summary>Runs after forward with its input and output; a non-null result replaces the output.</summary>
    public HookHandle register_forward_hook(Func<Module<TInput, TOutput>, TInput, TOutput, TOutput?> hook)
    {
        var id = nextHookId++;
        postHooks.Add((id, hook));
        return new HookHandle(() => postHooks.RemoveAll(h => h.id == id));
    }
}

/// <summary>Removes the hook it was returned for when disposed.</summary>
public sealed class HookHandle : IDisposable
{
    private Action? remove;

    internal HookHandle(Action remove) => this.remove = remove;

    public void remove_hook() => Dispose();

    public void Dispose()
    {
        remove?.Invoke();
        remove = null;
    }
}
