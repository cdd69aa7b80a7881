using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>y = x Wᵀ + b, with W [out_features, in_features]; PyTorch's names and initialization.</summary>
public sealed class TransformableLinear : nn.Module<Tensor, Tensor>, IWeightTransformable
{
    public TransformableLinear(long in_features, long out_features, bool hasBias = true) : base("Linear")
    {
        ShapeGuards.Positive(in_features, nameof(in_features));
        ShapeGuards.Positive(out_features, nameof(out_features));
        this.in_features = in_features;
        this.out_features = out_features;
        weight = LayerInit.Parameter([out_features, in_features]);
        bias = hasBias ? LayerInit.Parameter([out_features]) : null;
        register_parameter(nameof(weight), weight);
        if (bias is not null)
            register_parameter(nameof(bias), bias);
        LayerInit.Default(weight, bias, in_features);
    }

    public long in_features { get; }
    public long out_features { get; }
    public Parameter weight { get; }
    public Parameter? bias { get; }

    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() => [(nameof(weight), weight)];

    public override Tensor forward(Tensor input)
    {
        // A mismatched matmul aborts the process inside libtorch: check first.
        if (input.dim() < 1)
            throw new ArgumentException("Linear expects an input with at least one dimension", nameof(input));
        ShapeGuards.Size(input, -1, in_features, "Linear", "in_features");
        using var scope = NewDisposeScope();
        var w = ComputePrecision.Operand(WeightTransform.Effective(weight));
        var b = bias is null ? null : ComputePrecision.Operand(bias);
        var y = nn.functional.linear(ComputePrecision.Operand(input), w, b);
        return scope.MoveToOuter(ComputePrecision.Result(y));
    }
}
