using System.Globalization;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// The learned-step quantizer on the input of one conv or linear layer (QKD / QAT): the layer's
/// module name as in named_modules, the bits, the step and whether the input keeps a sign.
/// </summary>
public sealed record ActivationQuantizer(string Layer, int Bits, float Step, bool Signed)
{
    public const int MinBits = 2, MaxBits = 8;

    /// <summary>The quantizer training used: Q_N = 2^(b−1), Q_P = 2^(b−1)−1 signed; Q_N = 0, Q_P = 2^b−1 unsigned.</summary>
    public LearnedStepQuantizer Quantizer => LearnedStepQuantizer.ForInputs(Bits, Signed);

    /// <summary>
    /// What is wrong with the list on its own, each problem prefixed by the entry's field
    /// (<c>activation_quantizers[i].bits</c>): a missing layer name, bits outside 2..8, a step that is
    /// not positive and finite, a layer named twice.
    /// </summary>
    public static List<string> Problems(IReadOnlyList<ActivationQuantizer> quantizers)
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < quantizers.Count; i++)
        {
            var q = quantizers[i];
            if (string.IsNullOrEmpty(q.Layer))
                problems.Add($"{Field(i, "layer")}: the layer name is empty");
            else if (!seen.Add(q.Layer))
                problems.Add($"{Field(i, "layer")}: layer '{q.Layer}' has more than one activation quantizer");
            if (q.Bits is < MinBits or > MaxBits)
                problems.Add($"{Field(i, "bits")}: {q.Bits} bits for layer '{q.Layer}'; allowed {MinBits}..{MaxBits}");
            if (!(q.Step > 0) || !float.IsFinite(q.Step))
                problems.Add($"{Field(i, "step")}: step {q.Step.ToString(CultureInfo.InvariantCulture)} for layer '{q.Layer}' is not positive and finite");
        }
        return problems;
    }

    /// <summary>What is wrong with the list on <paramref name="model"/>: a name that is not one of its modules, or a module that is not a Conv2d or Linear.</summary>
    public static List<string> Problems(IReadOnlyList<ActivationQuantizer> quantizers, Module model, string arch)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var problems = new List<string>();
        for (var i = 0; i < quantizers.Count; i++)
        {
            var layer = quantizers[i].Layer;
            if (!modules.TryGetValue(layer, out var module))
                problems.Add($"{Field(i, "layer")}: '{layer}' is not a module of {arch}");
            else if (module is not (TransformableConv2d or TransformableLinear))
                problems.Add($"{Field(i, "layer")}: '{layer}' is a {module.GetType().Name}, not a Conv2d or Linear");
        }
        return problems;
    }

    private static string Field(int index, string name) => $"activation_quantizers[{index}].{name}";
}
