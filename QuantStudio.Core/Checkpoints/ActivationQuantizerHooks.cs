using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// Activation quantizers installed on a model as forward pre-hooks: each named layer's input becomes
/// round-half-even(clip(x/s, −Q_N, Q_P))·s, computed by <see cref="Quantization.LearnedStepQuantizer.ForwardInput"/>
/// as in training. The hooks belong to the model's layers, so they act for as long as the model lives,
/// whether or not this object is kept; disposing it removes them and frees their steps.
/// </summary>
public sealed class ActivationQuantizerHooks : IDisposable
{
    private readonly List<HookHandle> handles = [];
    private readonly List<Tensor> steps = [];

    private ActivationQuantizerHooks()
    {
    }

    /// <summary>Installs <paramref name="quantizers"/> on <paramref name="model"/>'s layers; throws <see cref="ArgumentException"/> for a list that does not fit it.</summary>
    public static ActivationQuantizerHooks Install(Module model, IReadOnlyList<ActivationQuantizer> quantizers, string arch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(quantizers);
        var problems = ActivationQuantizer.Problems(quantizers);
        if (problems.Count == 0)
            problems = ActivationQuantizer.Problems(quantizers, model, arch);
        if (problems.Count > 0)
            throw new ArgumentException(string.Join("; ", problems), nameof(quantizers));

        var layers = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var hooks = new ActivationQuantizerHooks();
        foreach (var q in quantizers)
        {
            var quantizer = q.Quantizer;
            // The step lives as long as the hook that reads it: out of any dispose scope the caller has open.
            var step = torch.tensor(new[] { (float)q.Step }).DetachFromDisposeScope();
            hooks.steps.Add(step);
            hooks.handles.Add(((Module<Tensor, Tensor>)layers[q.Layer]).AddInputTransform(x => quantizer.ForwardInput(x, step)));
        }
        return hooks;
    }

    public int Count => handles.Count;

    public void Dispose()
    {
        foreach (var h in handles)
            h.Dispose();
        handles.Clear();
        foreach (var s in steps)
            s.Dispose();
        steps.Clear();
    }
}
