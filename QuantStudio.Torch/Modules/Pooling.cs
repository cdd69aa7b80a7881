using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

public sealed class MaxPool2d : Module<Tensor, Tensor>
{
    public MaxPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false) : base(nameof(MaxPool2d))
    {
        LayerChecks.Positive(kernel_size, nameof(kernel_size));
        if (stride is { } s)
            LayerChecks.Positive(s, nameof(stride));
        if (padding < 0 || padding > kernel_size / 2)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"padding must be in [0, kernel_size / 2] = [0, {kernel_size / 2}]");
        this.kernel_size = kernel_size;
        this.stride = stride ?? kernel_size;
        this.padding = padding;
        this.ceil_mode = ceil_mode;
    }

    public long kernel_size { get; }
    public long stride { get; }
    public long padding { get; }
    public bool ceil_mode { get; }

    public override Tensor forward(Tensor input) => F.max_pool2d(input, kernel_size, stride, padding, ceil_mode);
}

public sealed class AvgPool2d : Module<Tensor, Tensor>
{
    public AvgPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false, bool count_include_pad = true)
        : base(nameof(AvgPool2d))
    {
        LayerChecks.Positive(kernel_size, nameof(kernel_size));
        if (stride is { } s)
            LayerChecks.Positive(s, nameof(stride));
        if (padding < 0 || padding > kernel_size / 2)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"padding must be in [0, kernel_size / 2] = [0, {kernel_size / 2}]");
        this.kernel_size = kernel_size;
        this.stride = stride ?? kernel_size;
        this.padding = padding;
        this.ceil_mode = ceil_mode;
        this.count_include_pad = count_include_pad;
    }

    public long kernel_size { get; }
    public long stride { get; }
    public long padding { get; }
    public bool ceil_mode { get; }
    public bool count_include_pad { get; }

    public override Tensor forward(Tensor input) => F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad);
}

/// <summary>Averages each channel down to an output_size grid, whatever the input's spatial size.</summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    public AdaptiveAvgPool2d((long, long) output_size) : base(nameof(AdaptiveAvgPool2d))
    {
        LayerChecks.Positive(output_size.Item1, nameof(output_size));
        LayerChecks.Positive(output_size.Item2, nameof(output_size));
        this.output_size = output_size;
    }

    public AdaptiveAvgPool2d(long output_size) : this((output_size, output_size))
    {
    }

    public (long, long) output_size { get; }

    public override Tensor forward(Tensor input) => F.adaptive_avg_pool2d(input, output_size.Item1, output_size.Item2);
}
