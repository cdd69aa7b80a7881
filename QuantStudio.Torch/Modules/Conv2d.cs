using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

/// <summary>2-d convolution over [N, C, H, W] input; weight [out_channels, in_channels / groups, kH, kW].</summary>
public class Conv2d : Module<Tensor, Tensor>, IWeightTransformable
{
    public Conv2d(long in_channels, long out_channels, (long, long) kernel_size, (long, long) stride, (long, long) padding,
        (long, long) dilation, long groups = 1, bool hasBias = true, ScalarType dtype = ScalarType.Float32) : base(nameof(Conv2d))
    {
        LayerChecks.Positive(in_channels, nameof(in_channels));
        LayerChecks.Positive(out_channels, nameof(out_channels));
        LayerChecks.Positive(kernel_size.Item1, nameof(kernel_size));
        LayerChecks.Positive(kernel_size.Item2, nameof(kernel_size));
        LayerChecks.Positive(stride.Item1, nameof(stride));
        LayerChecks.Positive(stride.Item2, nameof(stride));
        LayerChecks.NonNegative(padding.Item1, nameof(padding));
        LayerChecks.NonNegative(padding.Item2, nameof(padding));
        LayerChecks.Positive(dilation.Item1, nameof(dilation));
        LayerChecks.Positive(dilation.Item2, nameof(dilation));
        LayerChecks.Positive(groups, nameof(groups));
        if (in_channels % groups != 0 || out_channels % groups != 0)
            throw new ArgumentException($"groups ({groups}) must divide in_channels ({in_channels}) and out_channels ({out_channels})", nameof(groups));
        this.in_channels = in_channels;
        this.out_channels = out_channels;
        this.kernel_size = kernel_size;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        register_parameter("weight", torch.empty([out_channels, in_channels / groups, kernel_size.Item1, kernel_size.Item2], dtype, requires_grad: true));
        register_parameter("bias", hasBias ? torch.empty([out_channels], dtype, requires_grad: true) : null);
        reset_parameters();
    }

    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool hasBias = true, ScalarType dtype = ScalarType.Float32)
        : this(in_channels, out_channels, (kernel_size, kernel_size), (stride, stride), (padding, padding), (dilation, dilation), groups, hasBias, dtype)
    {
    }

    public long in_channels { get; }
    public long out_channels { get; }
    public (long, long) kernel_size { get; }
    public (long, long) stride { get; }
    public (long, long) padding { get; }
    public (long, long) dilation { get; }
    public long groups { get; }

    /// <summary>The full-precision weight (the trained parameter).</summary>
    public Tensor weight
    {
        get => get_parameter(nameof(weight))!;
        set => register_parameter(nameof(weight), LayerChecks.SameShape(value, weight, nameof(weight)));
    }

    public Tensor? bias
    {
        get => get_parameter(nameof(bias));
        set => register_parameter(nameof(bias), value is null ? null : LayerChecks.Shape(value, [out_channels], nameof(bias)));
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

    public override Tensor forward(Tensor input) =>
        F.conv2d(input, WeightTransform.Effective(weight), bias, stride, padding, dilation, groups);
}
