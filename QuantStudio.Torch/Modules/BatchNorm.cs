using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

/// <summary>
/// Batch normalization over the channel dimension (dim 1). In training it normalizes with the batch's
/// statistics and updates running_mean / running_var (unbiased variance) with <see cref="momentum"/>,
/// or with a cumulative average when momentum is null; in eval it uses the running statistics.
/// </summary>
public abstract class BatchNorm : Module<Tensor, Tensor>
{
    protected BatchNorm(string name, long num_features, double eps, double? momentum, bool affine, bool track_running_stats, ScalarType dtype)
        : base(name)
    {
        LayerChecks.Positive(num_features, nameof(num_features));
        if (!(eps > 0))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive");
        if (momentum is { } m)
            LayerChecks.Probability(m, nameof(momentum));
        this.num_features = num_features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.track_running_stats = track_running_stats;
        register_parameter("weight", affine ? torch.ones([num_features], dtype, requires_grad: true) : null);
        register_parameter("bias", affine ? torch.zeros([num_features], dtype, requires_grad: true) : null);
        register_buffer("running_mean", track_running_stats ? torch.zeros([num_features], dtype) : null);
        register_buffer("running_var", track_running_stats ? torch.ones([num_features], dtype) : null);
        register_buffer("num_batches_tracked", track_running_stats ? torch.zeros([], ScalarType.Int64) : null);
    }

    public long num_features { get; }
    public double eps { get; }
    /// <summary>Weight of the newest batch in the running statistics; null means a cumulative average.</summary>
    public double? momentum { get; }
    public bool affine { get; }
    public bool track_running_stats { get; }

    public Tensor? weight => get_parameter(nameof(weight));
    public Tensor? bias => get_parameter(nameof(bias));
    public Tensor? running_mean => get_buffer(nameof(running_mean));
    public Tensor? running_var => get_buffer(nameof(running_var));
    public Tensor? num_batches_tracked => get_buffer(nameof(num_batches_tracked));

    /// <summary>Resets the running statistics to mean 0, variance 1 and the batch count to 0.</summary>
    public void reset_running_stats()
    {
        using var noGrad = torch.no_grad();
        running_mean?.zero_();
        running_var?.fill_(1);
        num_batches_tracked?.zero_();
    }

    /// <summary>Checks the input rank, naming the layer and the expected shapes.</summary>
    protected abstract void CheckInputDim(long dim);

    public override Tensor forward(Tensor input)
    {
        CheckInputDim(input.dim());
        if (input.size(1) != num_features)
            throw new ArgumentException($"{name} expects {num_features} channels in dim 1, got input of shape [{string.Join(", ", input.shape)}]", nameof(input));

        var factor = momentum ?? 0.0;
        if (training && num_batches_tracked is { } count)
        {
            // An integer scalar: an in-place add with a floating alpha is rejected on int64 tensors.
            using (torch.no_grad())
            using (var next = count.add(1L))
                count.copy_(next);
            if (momentum is null)
                factor = 1.0 / count.item<long>();
        }
        // Batch statistics in training, or when there are no running ones to use.
        var useBatchStats = training || running_mean is null;
        // With useBatchStats, batch_norm also folds the batch statistics into the running ones it is given.
        return F.batch_norm(input, running_mean, running_var, weight, bias, useBatchStats, factor, eps);
    }
}

/// <summary>Batch normalization of [N, C] or [N, C, L] input.</summary>
public sealed class BatchNorm1d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true,
    ScalarType dtype = ScalarType.Float32) : BatchNorm(nameof(BatchNorm1d), num_features, eps, momentum, affine, track_running_stats, dtype)
{
    protected override void CheckInputDim(long dim)
    {
        if (dim != 2 && dim != 3)
            throw new ArgumentException($"BatchNorm1d expects 2-d [N, C] or 3-d [N, C, L] input, got {dim}-d", "input");
    }
}

/// <summary>Batch normalization of [N, C, H, W] input.</summary>
public sealed class BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true,
    ScalarType dtype = ScalarType.Float32) : BatchNorm(nameof(BatchNorm2d), num_features, eps, momentum, affine, track_running_stats, dtype)
{
    protected override void CheckInputDim(long dim)
    {
        if (dim != 4)
            throw new ArgumentException($"BatchNorm2d expects 4-d [N, C, H, W] input, got {dim}-d", "input");
    }
}
