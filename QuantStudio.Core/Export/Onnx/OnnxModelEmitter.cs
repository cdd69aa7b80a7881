using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Models;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static QuantStudio.Core.Export.Onnx.OnnxGraphBuilder;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>
/// Writes the inference graph of a zoo model: each convolution with the batch norm after it folded in,
/// each linear layer as Gemm, pooling, activations and residual additions as the model's forward pass
/// computes them, dropout left out, and the checkpoint's activation quantizers on the inputs of their layers.
/// The model's modules are read by their state_dict names, so the graph's weights carry the same names.
/// </summary>
internal sealed class OnnxModelEmitter(OnnxGraphBuilder graph, OnnxWeightEmitter weights, IReadOnlyList<ActivationQuantizer> activationQuantizers)
{
    private readonly Dictionary<string, ActivationQuantizer> quantizers =
        activationQuantizers.ToDictionary(q => q.Layer, StringComparer.Ordinal);

    /// <summary>Emits <paramref name="model"/> from graph value <paramref name="x"/>; returns the logits' value.</summary>
    public string Model(nn.Module<Tensor, Tensor> model, string x) => model switch
    {
        Mlp or LeNet5 or CifarConvNet => Children(model, "", x),
        CifarResNet => Head(model, Sequence(Child(model, "stages"), "stages", Sequence(Child(model, "stem"), "stem", x))),
        WideResNet => WideResNetGraph(model, x),
        MobileNetV2 => Head(model, Sequence(Child(model, "features"), "features", x)),
        CharLstm lstm => CharLstmGraph(lstm, x),
        _ => throw new NotSupportedException($"ONNX export does not know the layout of {model.GetType().Name}"),
    };

    private static nn.Module Child(nn.Module parent, string name) =>
        parent.named_children().FirstOrDefault(c => c.name == name).module
        ?? throw new InvalidOperationException($"{parent.GetName()} has no module '{name}'");

    private static string Path(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    // The registered children of a model that is a plain chain of Sequentials (mlp, lenet5, the CIFAR nets).
    private string Children(nn.Module module, string prefix, string x)
    {
        foreach (var (name, child) in module.named_children())
            x = Sequence(child, Path(prefix, name), x);
        return x;
    }

    /// <summary>A module applied in order: a Sequential's children (a convolution absorbing the batch norm that follows it), or one layer.</summary>
    private string Sequence(nn.Module module, string prefix, string x)
    {
        if (module is not Sequential)
            return Single(module, prefix, x);
        var children = module.named_children().ToList();
        for (var i = 0; i < children.Count; i++)
        {
            var (name, child) = children[i];
            var path = Path(prefix, name);
            if (child is TransformableConv2d conv && i + 1 < children.Count && children[i + 1].module is BatchNorm bn)
            {
                x = Conv(conv, path, x, bn);
                i++;
            }
            else
            {
                x = Sequence(child, path, x);
            }
        }
        return x;
    }

    private string Single(nn.Module module, string path, string x) => module switch
    {
        TransformableConv2d conv => Conv(conv, path, x, null),
        TransformableLinear linear => Linear(linear, path, x),
        BatchNorm bn => Affine(BatchNormFold.Of(bn), path, x),
        ReLU => graph.Node("Relu", [x]),
        ReLU6 => graph.Node("Clip", [x, graph.Float($"{path}.min", 0f), graph.Float($"{path}.max", 6f)]),
        MaxPool2d pool => MaxPool(pool, path, x),
        Flatten flatten => Flatten(flatten, path, x),
        Dropout or Dropout2d => x,
        _ when module.GetType().Name == "BasicBlock" => BasicBlock(module, path, x),
        _ when module.GetType().Name == "PreActBlock" => PreActBlock(module, path, x),
        _ when module.GetType().Name == "InvertedResidual" => InvertedResidual(module, path, x),
        _ => throw new NotSupportedException($"ONNX export: module '{path}' ({module.GetType().Name}) has no ONNX form"),
    };

    /// <summary>The input a layer computes with: its activation quantizer's round-half-even(clip(x/s, −Q_N, Q_P))·s when it has one.</summary>
    internal string QuantizedInput(string path, string x)
    {
        if (!quantizers.TryGetValue(path, out var q))
            return x;
        var (qn, qp) = q.Signed ? (1 << (q.Bits - 1), (1 << (q.Bits - 1)) - 1) : (0, (1 << q.Bits) - 1);
        var step = graph.Float($"{path}.input_step", q.Step);
        var scaled = graph.Node("Div", [x, step]);
        var clipped = graph.Node("Clip", [scaled, graph.Float($"{path}.input_min", -qn), graph.Float($"{path}.input_max", qp)]);
        var level = graph.Node("Round", [clipped]);
        return graph.Node("Mul", [level, step]);
    }

    private string Conv(TransformableConv2d conv, string path, string x, BatchNorm? bn)
    {
        x = QuantizedInput(path, x);
        var k = conv.kernel_size;
        long[] shape = [conv.out_channels, conv.in_channels / conv.groups, k, k];
        var fold = bn is null ? null : BatchNormFold.Of(bn);
        var w = weights.Weight($"{path}.weight", shape, fold?.Scale);
        float[]? bias = conv.bias is null ? null : weights.Values($"{path}.bias");
        if (fold is not null)
            bias = fold.FoldedBias(bias);
        List<string> inputs = [x, w];
        if (bias is not null)
            inputs.Add(graph.Floats($"{path}.bias", bias, bias.Length));
        long s = conv.stride_size, p = conv.padding_size, d = conv.dilation_size;
        // Attributes at their ONNX defaults (stride 1, no padding, dilation 1, one group) are left out.
        List<global::Onnx.AttributeProto> attributes = [Ints("kernel_shape", k, k)];
        if (s != 1)
            attributes.Add(Ints("strides", s, s));
        if (p != 0)
            attributes.Add(Ints("pads", p, p, p, p));
        if (d != 1)
            attributes.Add(Ints("dilations", d, d));
        if (conv.groups != 1)
            attributes.Add(Int("group", conv.groups));
        return graph.Node("Conv", inputs, [.. attributes]);
    }

    private string Linear(TransformableLinear linear, string path, string x)
    {
        x = QuantizedInput(path, x);
        var w = weights.Weight($"{path}.weight", [linear.out_features, linear.in_features]);
        List<string> inputs = [x, w];
        if (linear.bias is not null)
            inputs.Add(graph.Floats($"{path}.bias", weights.Values($"{path}.bias"), linear.out_features));
        return graph.Node("Gemm", inputs, Int("transB", 1));
    }

    // A batch norm with no convolution right before it (the pre-activation blocks): y = x·scale + shift per channel.
    private string Affine(BatchNormFold fold, string path, string x)
    {
        long c = fold.Scale.Length;
        var scaled = graph.Node("Mul", [x, graph.Floats($"{path}.scale", fold.Scale, c, 1, 1)]);
        return graph.Node("Add", [scaled, graph.Floats($"{path}.shift", fold.Shift, c, 1, 1)]);
    }

    private string MaxPool(MaxPool2d pool, string path, string x)
    {
        var k = pool.kernel_size;
        var s = pool.stride ?? k;
        var p = pool.padding ?? [0, 0];
        var d = pool.dilation ?? [1, 1];
        List<global::Onnx.AttributeProto> attributes = [Ints("kernel_shape", k), Ints("strides", s)];
        if (p.Any(v => v != 0))
            attributes.Add(Ints("pads", p[0], p[1], p[0], p[1]));
        if (d.Any(v => v != 1))
            attributes.Add(Ints("dilations", d));
        if (pool.ceil_mode)
            attributes.Add(Int("ceil_mode", 1));
        return graph.Node("MaxPool", [x], [.. attributes]);
    }

    private string Flatten(Flatten flatten, string path, string x)
    {
        if (flatten.start_dim != 1 || flatten.end_dim != -1)
            throw new NotSupportedException($"ONNX export: '{path}' flattens dims {flatten.start_dim}..{flatten.end_dim}; only 1..-1 is supported");
        return graph.Node("Flatten", [x], Int("axis", 1));
    }

    // Global average pooling, flatten, classifier: the heads of the residual nets and MobileNetV2.
    private string Head(nn.Module model, string x)
    {
        var pooled = graph.Node("GlobalAveragePool", [x]);
        var flat = graph.Node("Flatten", [pooled], Int("axis", 1));
        return Linear((TransformableLinear)Child(model, "classifier"), "classifier", flat);
    }

    // conv → BN → ReLU → conv → BN, plus the shortcut (identity, or option A: subsample and zero-pad the channels), then ReLU.
    private string BasicBlock(nn.Module block, string path, string x)
    {
        var conv1 = (TransformableConv2d)Child(block, "conv1");
        var conv2 = (TransformableConv2d)Child(block, "conv2");
        var y = graph.Node("Relu", [Conv(conv1, $"{path}.conv1", x, (BatchNorm)Child(block, "bn1"))]);
        y = Conv(conv2, $"{path}.conv2", y, (BatchNorm)Child(block, "bn2"));
        var shortcut = x;
        long stride = conv1.stride_size, inCh = conv1.in_channels, outCh = conv1.out_channels;
        if (stride != 1 || inCh != outCh)
        {
            if (stride != 1)
                shortcut = graph.Node("Slice", [x, graph.Int64s($"{path}.starts", 0, 0),
                    graph.Int64s($"{path}.ends", long.MaxValue, long.MaxValue), graph.Int64s($"{path}.axes", 2, 3), graph.Int64s($"{path}.steps", stride, stride)]);
            var extra = outCh - inCh;
            var before = extra / 2;
            shortcut = graph.Node("Pad", [shortcut, graph.Int64s($"{path}.pads", 0, before, 0, 0, 0, extra - before, 0, 0)]);
        }
        var sum = graph.Node("Add", [y, shortcut]);
        return graph.Node("Relu", [sum]);
    }

    // Pre-activation: a = ReLU(BN(x)); conv1 (BN folded) → ReLU → conv2; plus x, or a 1×1 conv of a.
    private string PreActBlock(nn.Module block, string path, string x)
    {
        var a = graph.Node("Relu", [Affine(BatchNormFold.Of((BatchNorm)Child(block, "bn1")), $"{path}.bn1", x)]);
        var y = Conv((TransformableConv2d)Child(block, "conv1"), $"{path}.conv1", a, (BatchNorm)Child(block, "bn2"));
        y = graph.Node("Relu", [y]);
        y = Conv((TransformableConv2d)Child(block, "conv2"), $"{path}.conv2", y, null);
        var shortcut = block.named_children().FirstOrDefault(c => c.name == "shortcut").module is TransformableConv2d s
            ? Conv(s, $"{path}.shortcut", a, null)
            : x;
        return graph.Node("Add", [y, shortcut]);
    }

    private string WideResNetGraph(nn.Module model, string x)
    {
        x = Conv((TransformableConv2d)Child(model, "stem"), "stem", x, null);
        x = Sequence(Child(model, "stages"), "stages", x);
        x = graph.Node("Relu", [Affine(BatchNormFold.Of((BatchNorm)Child(model, "bn")), "bn", x)]);
        return Head(model, x);
    }

    // expand → depthwise → project (each with its batch norm folded), plus the input when shape allows.
    private string InvertedResidual(nn.Module block, string path, string x)
    {
        var body = Child(block, "body");
        var y = Sequence(body, $"{path}.body", x);
        var parts = body.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        var depthwise = (TransformableConv2d)Child(parts["depthwise"], "conv");
        var first = parts.TryGetValue("expand", out var expand) ? (TransformableConv2d)Child(expand, "conv") : depthwise;
        var project = (TransformableConv2d)parts["project"];
        var residual = depthwise.stride_size == 1 && first.in_channels == project.out_channels;
        return residual ? graph.Node("Add", [y, x]) : y;
    }

    // Embedding → LSTM layers (ONNX LSTM, gates reordered from PyTorch's i, f, g, o to ONNX's i, o, f, c) → decoder.
    private string CharLstmGraph(CharLstm model, string ids)
    {
        var embedding = (TransformableEmbedding)Child(model, "embedding");
        var lstm = (TransformableLstm)Child(model, "lstm");
        var decoder = (TransformableLinear)Child(model, "decoder");
        var table = weights.Weight("embedding.weight", [embedding.num_embeddings, embedding.embedding_dim]);
        var x = graph.Node("Gather", [table, ids]);
        x = graph.Node("Transpose", [x], Ints("perm", 1, 0, 2));
        var h = lstm.hidden_size;
        for (var l = 0; l < lstm.num_layers; l++)
        {
            var input = l == 0 ? lstm.input_size : h;
            var w = Gates($"lstm.weight_ih_l{l}", [4 * h, input], h);
            var r = Gates($"lstm.weight_hh_l{l}", [4 * h, h], h);
            var b = LstmBias(l, h);
            var y = graph.Node("LSTM", [x, w, r, b], Int("hidden_size", h));
            x = graph.Node("Squeeze", [y, graph.Int64s($"lstm.l{l}.direction_axis", 1)]);
        }
        x = graph.Node("Transpose", [x], Ints("perm", 1, 0, 2));
        x = QuantizedInput("decoder", x);
        var product = graph.Node("MatMul", [x, weights.WeightTransposed("decoder.weight", [decoder.out_features, decoder.in_features])]);
        return decoder.bias is null ? product
            : graph.Node("Add", [product, graph.Floats("decoder.bias", weights.Values("decoder.bias"), decoder.out_features)]);
    }

    private static readonly int[] OnnxGateOrder = [0, 3, 1, 2]; // ONNX i, o, f, c from PyTorch's blocks i, f, g, o

    // A [4H, n] LSTM matrix as ONNX's [1, 4H, n] in ONNX's gate order.
    private string Gates(string name, long[] shape, long hidden)
    {
        if (weights.IsLowBit(name))
        {
            var parts = graph.NodeWithOutputs("Split", [weights.Weight(name, shape)], 4, Int("axis", 0), Int("num_outputs", 4));
            var ordered = graph.Node("Concat", OnnxGateOrder.Select(g => parts[g]), Int("axis", 0));
            return graph.Node("Unsqueeze", [ordered, graph.Int64s($"{name}.direction_axis", 0)]);
        }
        var data = weights.Values(name);
        var rows = hidden * shape[1];
        var reordered = OnnxGateOrder.SelectMany(g => data.Skip((int)(g * rows)).Take((int)rows)).ToArray();
        return graph.Floats(name, reordered, 1, shape[0], shape[1]);
    }

    private string LstmBias(int layer, long hidden)
    {
        float[] Reordered(float[] b) => OnnxGateOrder.SelectMany(g => b.Skip((int)(g * hidden)).Take((int)hidden)).ToArray();
        var bias = Reordered(weights.Values($"lstm.bias_ih_l{layer}")).Concat(Reordered(weights.Values($"lstm.bias_hh_l{layer}"))).ToArray();
        return graph.Floats($"lstm.bias_l{layer}", bias, 1, 8 * hidden);
    }
}
