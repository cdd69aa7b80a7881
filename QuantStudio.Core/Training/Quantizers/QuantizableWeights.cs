using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training.Quantizers;

/// <summary>One weight matrix a method may quantize: its state_dict name, the layer that owns it, and the tensor.</summary>
public sealed record QuantizableWeight(string Name, Module Layer, Tensor Weight, bool IsFirstLayer, bool IsLastLayer)
{
    public bool IsFirstOrLast => IsFirstLayer || IsLastLayer;
}

/// <summary>
/// Finds the weights that quantization applies to: every weight a layer exposes through
/// <see cref="IWeightTransformable"/> (conv, linear, embedding and LSTM matrices, never biases or
/// batch-norm parameters, which are few and stay in full precision). The first and last such
/// layers in module order are the input and output layers that the papers treat apart.
/// </summary>
public static class QuantizableWeights
{
    public static IReadOnlyList<QuantizableWeight> Find(Module model)
    {
        var layers = model.named_modules().Where(m => m.module is IWeightTransformable).ToList();
        var result = new List<QuantizableWeight>();
        for (var i = 0; i < layers.Count; i++)
        {
            var (prefix, layer) = layers[i];
            foreach (var (name, weight) in ((IWeightTransformable)layer).transformable_weights())
                result.Add(new QuantizableWeight(prefix.Length == 0 ? name : prefix + "." + name, layer, weight, i == 0, i == layers.Count - 1));
        }
        return result;
    }

    /// <summary>The weights a method quantizes: all, or all but the first and last layer's.</summary>
    public static IReadOnlyList<QuantizableWeight> Select(Module model, bool includeFirstLast) =>
        Find(model).Where(w => includeFirstLast || !w.IsFirstOrLast).ToList();
}

/// <summary>
/// Routes each layer's <see cref="IWeightTransformable.WeightTransform"/> to a per-tensor function,
/// so one quantizer object per weight can serve layers (such as the LSTM) that own several.
/// </summary>
public sealed class WeightTransformRouter : IDisposable
{
    private readonly Dictionary<Tensor, Func<Tensor, Tensor>> routes = new(ReferenceEqualityComparer.Instance);
    private readonly List<IWeightTransformable> layers = [];

    /// <summary>A router that sends weight i of <paramref name="weights"/> through <c>transform(w, i)</c>.</summary>
    public static WeightTransformRouter For(IReadOnlyList<QuantizableWeight> weights, Func<Tensor, int, Tensor> transform)
    {
        var router = new WeightTransformRouter();
        for (var i = 0; i < weights.Count; i++)
        {
            var index = i;
            router.Route(weights[i], w => transform(w, index));
        }
        return router;
    }

    private void Route(QuantizableWeight weight, Func<Tensor, Tensor> transform)
    {
        routes[weight.Weight] = transform;
        var layer = (IWeightTransformable)weight.Layer;
        if (!layers.Contains(layer))
        {
            layers.Add(layer);
            layer.WeightTransform = w => routes.TryGetValue(w, out var f) ? f(w) : w;
        }
    }

    /// <summary>Removes every transform this router installed: the layers compute with their own weights again.</summary>
    public void Dispose()
    {
        foreach (var layer in layers)
            layer.WeightTransform = null;
        layers.Clear();
        routes.Clear();
    }
}
