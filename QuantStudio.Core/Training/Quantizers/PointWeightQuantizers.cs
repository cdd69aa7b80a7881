using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training.Quantizers;

/// <summary>
/// Differentiable quantization's learned points (Polino et al. 2018). Each weight is frozen and
/// maps to the nearest of its own sorted points in [0, 1] after bucketed min–max scaling. The layer
/// computes with ŵ = p[code]·α + β, given to it as a leaf tensor so that backward leaves ∂L/∂ŵ on
/// it; <see cref="NonUniformQuantizer.PointGradient"/> turns that into ∂L/∂p, which becomes the
/// points' gradient for an ordinary optimizer. After each update the points are clamped to [0, 1]
/// and sorted, which is what the quantizer expects.
/// </summary>
public sealed class PointWeightQuantizers : IDisposable
{
    private readonly IReadOnlyList<QuantizableWeight> weights;
    private readonly int? bucketSize;
    private float[][] values;
    private readonly Tensor[] points;
    private readonly Cached?[] cache;
    private readonly List<(int Index, Cached State, Tensor Leaf)> pending = [];
    private WeightTransformRouter? router;

    private sealed record Cached(NonUniformQuantizer Quantizer, byte[] Codes, float[] Alpha, Tensor Dequantized);

    public PointWeightQuantizers(IReadOnlyList<QuantizableWeight> weights, int? bucketSize)
    {
        this.weights = weights;
        this.bucketSize = bucketSize;
        cache = new Cached?[weights.Count];
        values = [];
        Freeze();
        points = weights.Select(_ => Parameter(NonUniformQuantizer.UniformPoints(2))).ToArray();
    }

    public IReadOnlyList<QuantizableWeight> Weights => weights;

    /// <summary>Takes the weights' current values as the frozen ones the points quantize (call once training of the weights is over).</summary>
    public void Freeze()
    {
        values = weights.Select(w => w.Weight.detach().cpu().contiguous().data<float>().ToArray()).ToArray();
        for (var i = 0; i < cache.Length; i++)
            Invalidate(i);
    }

    /// <summary>The learned points, one tensor per weight (optimizer parameters).</summary>
    public IReadOnlyList<Tensor> Points => points;

    /// <summary>Sets each weight's starting points: quantiles of its scaled values, or evenly spaced.</summary>
    public void Initialize(string init, IReadOnlyList<int> counts)
    {
        for (var i = 0; i < weights.Count; i++)
        {
            var p = init == "quantile"
                ? NonUniformQuantizer.QuantilePoints(values[i], counts[i], bucketSize)
                : NonUniformQuantizer.UniformPoints(counts[i]);
            SetPoints(i, p);
        }
    }

    public void Install()
    {
        if (router is not null)
            return;
        router = WeightTransformRouter.For(weights, Transform);
    }

    private Cached State(int i)
    {
        if (cache[i] is { } c)
            return c;
        var quantizer = new NonUniformQuantizer(points[i].data<float>().ToArray(), bucketSize);
        var (dequantized, codes, alpha, _) = quantizer.Quantize(values[i]);
        var t = torch.tensor(dequantized, weights[i].Weight.shape).DetachFromDisposeScope();
        return (cache[i] = new Cached(quantizer, codes, alpha, t));
    }

    private Tensor Transform(Tensor w, int index)
    {
        var state = State(index);
        var channelsLast = w.dim() == 4 && w.IsChannelsLast();
        if (!torch.is_grad_enabled())
            return channelsLast ? state.Dequantized.ToChannelsLast() : state.Dequantized.alias();
        // A fresh leaf per step: backward deposits ∂L/∂ŵ on it.
        // Owned here until AfterBackward has read its gradient (the model's forward scope would free it first).
        var leaf = state.Dequantized.detach().requires_grad_().DetachFromDisposeScope();
        pending.Add((index, state, leaf));
        return channelsLast ? leaf.ToChannelsLast() : leaf;
    }

    /// <summary>Turns the gradients left on the step's ŵ leaves into gradients of the points.</summary>
    public void AfterBackward()
    {
        var grads = new double[weights.Count][];
        foreach (var (index, state, leaf) in pending)
        {
            using var owned = leaf;
            using var g = leaf.grad;
            if (g is null)
                continue;
            using var contiguous = g.contiguous();
            var pg = state.Quantizer.PointGradient(state.Codes, state.Alpha, contiguous.data<float>().ToArray());
            grads[index] ??= new double[pg.Length];
            for (var j = 0; j < pg.Length; j++)
                grads[index][j] += pg[j];
        }
        pending.Clear();
        for (var i = 0; i < weights.Count; i++)
            points[i].grad = grads[i] is null ? null : torch.tensor(grads[i].Select(v => (float)v).ToArray());
    }

    /// <summary>Keeps every point set sorted inside [0, 1] after an update, and forgets the cached ŵ.</summary>
    public void AfterStep()
    {
        for (var i = 0; i < weights.Count; i++)
        {
            var p = points[i].data<float>().ToArray();
            for (var j = 0; j < p.Length; j++)
                p[j] = Math.Clamp(p[j], 0f, 1f);
            Array.Sort(p);
            SetPoints(i, p);
        }
    }

    private void SetPoints(int i, float[] p)
    {
        if (points[i].numel() == p.Length)
        {
            using var noGrad = torch.no_grad();
            using var t = torch.tensor(p);
            points[i].copy_(t);
        }
        else
        {
            points[i].Dispose();
            points[i] = Parameter(p);
        }
        Invalidate(i);
    }

    private void Invalidate(int i)
    {
        cache[i]?.Dequantized.Dispose();
        cache[i] = null;
    }

    private static Tensor Parameter(float[] p) => torch.tensor(p).requires_grad_().DetachFromDisposeScope();

    public StateDict State()
    {
        var dict = new StateDict();
        for (var i = 0; i < weights.Count; i++)
            dict.Add($"points.{weights[i].Name}", points[i].detach());
        return dict;
    }

    /// <summary>Restores the points (their counts may differ from the current ones after bit allocation).</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        for (var i = 0; i < weights.Count; i++)
        {
            var key = $"points.{weights[i].Name}";
            if (!state.TryGetValue(key, out var p))
                throw new StateDictMismatchException("differentiable quantization", [key], [], []);
            SetPoints(i, p.to_type(ScalarType.Float32).data<float>().ToArray());
        }
    }

    public IReadOnlyList<QuantizedWeightView> Views()
    {
        var views = new List<QuantizedWeightView>();
        for (var i = 0; i < weights.Count; i++)
        {
            var s = State(i);
            var (_, _, alpha, beta) = s.Quantizer.Quantize(values[i]);
            var k = ScaleStatistics.MedianBucket(alpha);
            var levels = s.Quantizer.Points.Select(p => beta[k] + alpha[k] * (double)p).ToArray();
            views.Add(new QuantizedWeightView(weights[i].Name, weights[i].Weight, NonUniformQuantizer.BitsFor(s.Quantizer.Points.Length),
                bucketSize, levels, ScaleStatistics.Of(alpha), s.Codes, alpha.Length, 2, s.Quantizer.Points.Length * sizeof(float)));
        }
        return views;
    }

    public Dictionary<string, TensorEncoding> Encodings() =>
        Enumerable.Range(0, weights.Count).ToDictionary(i => weights[i].Name,
            TensorEncoding (i) => new PointsEncoding(points[i].data<float>().ToArray(), bucketSize));

    public Dictionary<string, Tensor> Dequantized() =>
        Enumerable.Range(0, weights.Count).ToDictionary(i => weights[i].Name, i => State(i).Dequantized.clone().DetachFromDisposeScope());

    public void Dispose()
    {
        router?.Dispose();
        router = null;
        for (var i = 0; i < weights.Count; i++)
        {
            Invalidate(i);
            points[i].Dispose();
        }
    }
}
