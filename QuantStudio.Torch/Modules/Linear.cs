using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

/// <summary>y = x Wᵀ + b, with W [out_features, in_features].</summary>
public class Linear : Module<Tensor, Tensor>, IWeightTransformable
{
    public Linear(long in_features, long out_features, bool hasBias = true, ScalarType dtype = ScalarType.Float32) : base(nameof(Linear))
    {
        LayerChecks.Positive(in_features, nameof(in_features));
        LayerChecks.Positive(out_features, nameof(out_features));
        this.in_features = in_features;
        this.out_features = out_features;
        register_parameter("weight", torch.empty([out_features, in_features], dtype, requires_grad: true));
        register_parameter("bias", hasBias ? torch.empty([out_features], dtype, requires_grad: true) : null);
        reset_parameters();
    }

    public long in_features { get; }
    public long out_features { get; }

    /// <summary>The full-precision weight (the trained parameter).</summary>
    public Tensor weight
    {
        get => get_parameter(nameof(weight))!;
        set => register_parameter(nameof(weight), LayerChecks.SameShape(value, weight, nameof(weight)));
    }

    public Tensor? bias
    {
        get => get_parameter(nameof(bias));
        set => register_parameter(nameof(bias), value is null ? null : LayerChecks.Shape(value, [out_features], nameof(bias)));
    }

    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() => [(nameof(weight), weight)];

    /// <summary>PyTorch's default: kaiming_uniform(a=√5) weights, bias U(±1/√fan_in).</summary>
    public void reset_parameters()
    {
        torch.nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is { } b)
            LayerChecks.UniformFanInBias(b, weight);
    }

    public override Tensor forward(Tensor input) => F.linear(input, WeightTransform.Effective(weight), bias);
}
