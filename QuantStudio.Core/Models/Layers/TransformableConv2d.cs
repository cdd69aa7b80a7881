using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>2-d convolution over [N, C, H, W]; weight [out_channels, in_channels / groups, kH, kW]; PyTorch's names and initialization.</summary>
public sealed class TransformableConv2d : nn.Module<Tensor, Tensor>, IWeightTransformable
{
    private readonly long[] stride, padding, dilation;

    public TransformableConv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool hasBias = true) : base("Conv2d")
    {
        ShapeGuards.Positive(in_channels, nameof(in_channels));
        ShapeGuards.Positive(out_channels, nameof(out_channels));
        ShapeGuards.Positive(kernel_size, nameof(kernel_size));
        ShapeGuards.Positive(stride, nameof(stride));
        ShapeGuards.Positive(dilation, nameof(dilation));
        ShapeGuards.Positive(groups, nameof(groups));
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (in_channels % groups != 0 || out_channels % groups != 0)
            throw new ArgumentException($"groups ({groups}) must divide in_channels ({in_channels}) and out_channels ({out_channels})", nameof(groups));
        this.in_channels = in_channels;
        this.out_channels = out_channels;
        this.kernel_size = kernel_size;
        this.groups = groups;
        this.stride = [stride, stride];
        this.padding = [padding, padding];
        this.dilation = [dilation, dilation];
        weight = LayerInit.Parameter([out_channels, in_channels / groups, kernel_size, kernel_size]);
        bias = hasBias ? LayerInit.Parameter([out_channels]) : null;
        register_parameter(nameof(weight), weight);
        if (bias is not null)
            register_parameter(nameof(bias), bias);
        LayerInit.Default(weight, bias, in_channels / groups * kernel_size * kernel_size);
    }

    public long in_channels { get; }
    public long out_channels { get; }
    public long kernel_size { get; }
    public long groups { get; }
    /// <summary>Stride, zero padding and dilation, the same along both spatial axes.</summary>
    public long stride_size => stride[0];
    public long padding_size => padding[0];
    public long dilation_size => dilation[0];
    public Parameter weight { get; }
    public Parameter? bias { get; }

    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() => [(nameof(weight), weight)];

    public override Tensor forward(Tensor input)
    {
        ShapeGuards.Dimensions(input, "Conv2d", 4);
        ShapeGuards.Size(input, 1, in_channels, "Conv2d", "input channels");
        using var scope = NewDisposeScope();
        // Always fp32 (libtorch 2.10's bf16 convolution backward returned NaN gradients at random on these CPUs), and
        // through CheckedConvolution, which works around what its float32 kernels get wrong here (docs/engine.md). The output is
        // channels_last, and batch norm, ReLU and pooling keep that layout.
        var w = WeightTransform.Effective(weight);
        var y = CheckedConvolution.Shared.Conv2d(ComputePrecision.Result(input), w, bias, stride, padding, dilation, groups);
        return scope.MoveToOuter(y);
    }
}
