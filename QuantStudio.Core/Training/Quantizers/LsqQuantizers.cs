using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training.Quantizers;

/// <summary>
/// QKD's learnable-step quantizers (LSQ): one signed quantizer per weight, and one per input of
/// every conv and linear layer but the first (its input is the image, already 8-bit data). The
/// first and last layers use 8 bits unless the spec quantizes them like the rest. Each step size is
/// a trainable one-element tensor kept here, outside the model, so the student's state_dict stays
/// the architecture's own.
/// </summary>
public sealed class LsqQuantizers : IDisposable
{
    private const int EdgeBits = 8;
    private readonly IReadOnlyList<QuantizableWeight> weights;
    private readonly LearnedStepQuantizer[] weightQuantizers;
    private readonly Tensor[] weightSteps;
    private readonly List<InputQuantizer> activations = [];
    private readonly List<HookHandle> hooks = [];
    private WeightTransformRouter? router;
    private bool calibrating;

    private sealed class InputQuantizer(string name, Module<Tensor, Tensor> layer, int bits)
    {
        public string Name { get; } = name;
        public Module<Tensor, Tensor> Layer { get; } = layer;
        public int Bits { get; } = bits;
        /// <summary>Activations after ReLU are unsigned; others (a residual sum, an LSTM output) keep a sign.</summary>
        public bool Signed { get; set; }
        public LearnedStepQuantizer Quantizer => LearnedStepQuantizer.ForInputs(Bits, Signed);
        public Tensor Step { get; set; } = torch.ones([1]).requires_grad_().DetachFromDisposeScope();
    }

    public LsqQuantizers(Module model, QuantizationSpec spec)
    {
        weights = QuantizableWeights.Find(model);
        int WeightBits(QuantizableWeight w) => w.IsFirstOrLast && !spec.QuantizeFirstLast ? EdgeBits : spec.Bits;
        weightQuantizers = weights.Select(w => LearnedStepQuantizer.ForWeights(Math.Max(2, WeightBits(w)))).ToArray();
        weightSteps = weights.Select((w, i) => weightQuantizers[i].InitialStep(w.Weight).requires_grad_().DetachFromDisposeScope()).ToArray();

        if (spec.ActivationBits is { } abits)
        {
            var layers = model.named_modules().Where(m => m.module is TransformableConv2d or TransformableLinear).ToList();
            for (var i = 1; i < layers.Count; i++)
            {
                var bits = i == layers.Count - 1 && !spec.QuantizeFirstLast ? EdgeBits : abits;
                activations.Add(new InputQuantizer(layers[i].name, (Module<Tensor, Tensor>)layers[i].module, bits));
            }
        }
    }

    public IReadOnlyList<QuantizableWeight> Weights => weights;

    /// <summary>Every step size (optimizer parameters, trained without weight decay).</summary>
    public IEnumerable<Tensor> Steps => weightSteps.Concat(activations.Select(a => a.Step));

    public bool QuantizesActivations => activations.Count > 0;

    /// <summary>
    /// LSQ's initial steps, 2·mean|v|/√Q_P: for weights from their current values, for activations
    /// from one batch through the model (which also decides whether an input can be negative).
    /// </summary>
    public void Calibrate(Module<Tensor, Tensor> model, Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (var i = 0; i < weights.Count; i++)
        {
            using var s = weightQuantizers[i].InitialStep(weights[i].Weight);
            weightSteps[i].copy_(s);
        }
        var seen = new Dictionary<InputQuantizer, (double MeanAbs, bool Negative)>();
        var probes = activations.Select(a => a.Layer.AddInputTransform(x =>
        {
            seen[a] = (x.abs().mean().AsDouble(), x.min().AsDouble() < 0);
            return null;
        })).ToList();
        // In training mode, as the quantizers will see the inputs: a fresh network's batch norm only
        // normalizes with batch statistics (its running statistics start at mean 0, variance 1, so in
        // eval mode deeper inputs come out 10 to 35 times smaller and their steps collapse). The
        // pass must not move the running statistics, so every buffer is put back afterwards.
        var buffers = model.buffers().ToList();
        var saved = buffers.Select(b => b.clone()).ToList();
        var wasTraining = model.training;
        model.train();
        // The activation quantizers step aside: the probes must see the layers' real inputs.
        calibrating = true;
        try
        {
            model.call(input);
        }
        finally
        {
            calibrating = false;
            model.train(wasTraining);
            for (var i = 0; i < buffers.Count; i++)
                buffers[i].copy_(saved[i]);
            foreach (var p in probes)
                p.Dispose();
        }
        foreach (var a in activations)
        {
            var (meanAbs, negative) = seen.GetValueOrDefault(a);
            a.Signed = negative;
            var step = 2 * meanAbs / Math.Sqrt(a.Quantizer.Qp);
            using var value = (step > 0 ? step : 1e-3).ToScalar();
            a.Step.fill_(value);
        }
    }

    public void Install()
    {
        if (router is not null)
            return;
        router = WeightTransformRouter.For(weights, (w, i) => weightQuantizers[i].Forward(w, weightSteps[i]));
        foreach (var a in activations)
            hooks.Add(a.Layer.AddInputTransform(x => QuantizeActivation(a, x)));
    }

    private Tensor? QuantizeActivation(InputQuantizer a, Tensor x) => calibrating ? null : a.Quantizer.ForwardInput(x, a.Step);

    /// <summary>Keeps every step positive after an update (a step at or below zero would divide by zero).</summary>
    public void AfterStep()
    {
        using var noGrad = torch.no_grad();
        using var min = 1e-8.ToScalar();
        using var max = 1e30.ToScalar();
        foreach (var s in Steps)
            s.clamp_(min, max);
    }

    public StateDict State()
    {
        var dict = new StateDict();
        for (var i = 0; i < weights.Count; i++)
            dict.Add($"lsq.weight.{weights[i].Name}.step", weightSteps[i].detach());
        foreach (var a in activations)
        {
            dict.Add($"lsq.input.{a.Name}.step", a.Step.detach());
            dict.Add($"lsq.input.{a.Name}.signed", torch.tensor(a.Signed ? 1L : 0L));
        }
        return dict;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var keys = State();
        try
        {
            var missing = keys.Keys.Where(k => !state.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new StateDictMismatchException("LSQ quantizers", missing, [], []);
        }
        finally
        {
            keys.Dispose();
        }
        using var noGrad = torch.no_grad();
        for (var i = 0; i < weights.Count; i++)
            weightSteps[i].copy_(state[$"lsq.weight.{weights[i].Name}.step"]);
        foreach (var a in activations)
        {
            a.Step.copy_(state[$"lsq.input.{a.Name}.step"]);
            a.Signed = state[$"lsq.input.{a.Name}.signed"].AsInt64() != 0;
        }
    }

    private float StepOf(int i) => weightSteps[i].item<float>();

    /// <summary>Signed codes round(clip(w/s, −Q_N, Q_P)), offset by Q_N so they fit a byte.</summary>
    private byte[] Codes(int i)
    {
        var q = weightQuantizers[i];
        var s = StepOf(i);
        var w = weights[i].Weight.detach().contiguous().data<float>().ToArray();
        var codes = new byte[w.Length];
        for (var j = 0; j < w.Length; j++)
            codes[j] = (byte)(Math.Round(Math.Clamp(w[j] / s, -q.Qn, q.Qp), MidpointRounding.ToEven) + q.Qn);
        return codes;
    }

    public IReadOnlyList<QuantizedWeightView> Views() =>
        Enumerable.Range(0, weights.Count).Select(i =>
        {
            var q = weightQuantizers[i];
            var s = StepOf(i);
            var levels = Enumerable.Range(-q.Qn, q.Qn + q.Qp + 1).Select(k => (double)k * s).ToArray();
            return new QuantizedWeightView(weights[i].Name, weights[i].Weight, q.Bits, null, levels, new ScaleStats(s, s, s), Codes(i), 1, 1);
        }).ToList();

    /// <summary>Each layer input's quantizer as it stands (layer, bits, step, sign), for the compressed checkpoint.</summary>
    public IReadOnlyList<ActivationQuantizer> ActivationQuantizers() =>
        activations.Select(a => new ActivationQuantizer(a.Name, a.Bits, a.Step.item<float>(), a.Signed)).ToList();

    public Dictionary<string, TensorEncoding> Encodings() =>
        Enumerable.Range(0, weights.Count).ToDictionary(i => weights[i].Name, TensorEncoding (i) => new LsqEncoding(weightQuantizers[i].Bits, StepOf(i)));

    public Dictionary<string, Tensor> Dequantized()
    {
        using var noGrad = torch.no_grad();
        return Enumerable.Range(0, weights.Count).ToDictionary(i => weights[i].Name,
            i => weightQuantizers[i].Forward(weights[i].Weight.detach(), weightSteps[i].detach()).DetachFromDisposeScope());
    }

    public void Dispose()
    {
        router?.Dispose();
        router = null;
        foreach (var h in hooks)
            h.Dispose();
        hooks.Clear();
        foreach (var s in Steps.ToList())
            s.Dispose();
    }
}
