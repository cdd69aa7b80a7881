using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training.Quantizers;

/// <summary>
/// The bucketed uniform quantizer of Polino et al. on a set of weights, as a weight transform.
/// While gradients are recorded the layer sees w + (q(w) − w).detach(): the forward pass runs on
/// the quantized values and the gradient reaches the full-precision shadow weight unchanged
/// (straight-through), which is what the optimizer updates. Without gradients (evaluation) the
/// layer sees q(w) itself, bit-identical to what the compressed checkpoint stores.
/// </summary>
public sealed class UniformWeightQuantizers : IDisposable
{
    private readonly IReadOnlyList<QuantizableWeight> weights;
    private readonly QuantizationSpec spec;
    private readonly long seed;
    private readonly Func<bool> training;
    private WeightTransformRouter? router;

    /// <param name="training">True while the model trains: only then is stochastic rounding used.</param>
    public UniformWeightQuantizers(IReadOnlyList<QuantizableWeight> weights, QuantizationSpec spec, long seed, Func<bool> training)
    {
        this.weights = weights;
        this.spec = spec;
        this.seed = seed;
        this.training = training;
    }

    public IReadOnlyList<QuantizableWeight> Weights => weights;

    /// <summary>The global step, which keys stochastic rounding so a resumed run draws the same noise.</summary>
    public long Step { get; set; }

    public bool Installed => router is not null;

    public void Install()
    {
        if (router is not null)
            return;
        router = WeightTransformRouter.For(weights, Transform);
    }

    public void Remove()
    {
        router?.Dispose();
        router = null;
    }

    private QuantizerSettings Settings(bool stochastic, int index) => new(spec.Bits, spec.BucketSize,
        spec.Scheme == "absmax" ? QuantizationScheme.AbsMax : QuantizationScheme.Uniform,
        stochastic ? Quantization.RoundingMode.Stochastic : Quantization.RoundingMode.Deterministic,
        stochastic ? RunSeeds.ForRounding(seed, Step, index) : 0);

    private Tensor Transform(Tensor w, int index)
    {
        var stochastic = spec.Rounding == "stochastic" && training();
        using var q = new BucketedQuantizer(Settings(stochastic, index)).Quantize(w);
        var deq = q.Dequantized.alias();
        if (w.dim() == 4 && w.IsChannelsLast())
            deq = deq.ToChannelsLast();
        if (!torch.is_grad_enabled())
            return deq;
        return w.Plus(deq.sub(w).detach());
    }

    /// <summary>Deterministic quantization of every weight, as stored in the compressed checkpoint.</summary>
    public IReadOnlyList<QuantizedWeightView> Views()
    {
        var views = new List<QuantizedWeightView>();
        for (var i = 0; i < weights.Count; i++)
        {
            var settings = Settings(false, i);
            using var q = new BucketedQuantizer(settings).Quantize(weights[i].Weight);
            var alpha = q.Alpha.data<float>().ToArray();
            var beta = q.Beta.data<float>().ToArray();
            var k = ScaleStatistics.MedianBucket(alpha);
            // Levels of a typical bucket (the one with the median range); with one bucket per tensor
            // these are exactly the tensor's levels between its min and max.
            var levels = settings.Scheme == QuantizationScheme.Uniform
                ? Enumerable.Range(0, settings.Steps + 1).Select(j => beta[k] + alpha[k] * (double)j / settings.Steps).ToArray()
                : Enumerable.Range(-settings.Steps, 2 * settings.Steps + 1).Select(j => alpha[k] * (double)j / settings.Steps).ToArray();
            views.Add(new QuantizedWeightView(weights[i].Name, weights[i].Weight, settings.Bits, settings.BucketSize, levels,
                ScaleStatistics.Of(alpha), q.Codes.data<byte>().ToArray(), alpha.Length, settings.ScalesPerBucket));
        }
        return views;
    }

    public Dictionary<string, TensorEncoding> Encodings() =>
        weights.ToDictionary(w => w.Name, TensorEncoding (_) => new UniformEncoding(spec.Bits, spec.BucketSize, spec.Scheme));

    /// <summary>The deterministic dequantized value of every weight (caller owns the tensors).</summary>
    public Dictionary<string, Tensor> Dequantized()
    {
        var result = new Dictionary<string, Tensor>();
        for (var i = 0; i < weights.Count; i++)
        {
            using var q = new BucketedQuantizer(Settings(false, i)).Quantize(weights[i].Weight);
            result[weights[i].Name] = q.Dequantized.alias().DetachFromDisposeScope();
        }
        return result;
    }

    public void Dispose() => Remove();
}
