using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

public sealed class ReLU() : Module<Tensor, Tensor>(nameof(ReLU))
{
    public override Tensor forward(Tensor input) => F.relu(input);
}

/// <summary>min(max(x, 0), 6).</summary>
public sealed class ReLU6() : Module<Tensor, Tensor>(nameof(ReLU6))
{
    public override Tensor forward(Tensor input) => F.relu6(input);
}

/// <summary>Zeroes each element with probability p in training and scales the rest by 1/(1 − p); identity in eval.</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    public Dropout(double p = 0.5) : base(nameof(Dropout))
    {
        LayerChecks.Probability(p, nameof(p));
        this.p = p;
    }

    public double p { get; }

    public override Tensor forward(Tensor input) => F.dropout(input, p, training);
}

/// <summary>Flattens dims start_dim..end_dim into one (by default everything but the batch).</summary>
public sealed class Flatten(long start_dim = 1, long end_dim = -1) : Module<Tensor, Tensor>(nameof(Flatten))
{
    public long start_dim { get; } = start_dim;
    public long end_dim { get; } = end_dim;

    public override Tensor forward(Tensor input) => input.flatten(start_dim, end_dim);
}
