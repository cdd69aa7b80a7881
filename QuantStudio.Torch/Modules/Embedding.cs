using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

/// <summary>A lookup table [num_embeddings, embedding_dim], initialized N(0, 1); the padding row is zero and gets no gradient.</summary>
public sealed class Embedding : Module<Tensor, Tensor>, IWeightTransformable
{
    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, ScalarType dtype = ScalarType.Float32) : base(nameof(Embedding))
    {
        LayerChecks.Positive(num_embeddings, nameof(num_embeddings));
        LayerChecks.Positive(embedding_dim, nameof(embedding_dim));
        if (padding_idx is { } pad)
        {
            if (pad < -num_embeddings || pad >= num_embeddings)
                throw new ArgumentOutOfRangeException(nameof(padding_idx), pad, $"padding_idx must be in [-{num_embeddings}, {num_embeddings - 1}]");
            // PyTorch normalizes a negative index to count from the end.
            padding_idx = pad < 0 ? pad + num_embeddings : pad;
        }
        this.num_embeddings = num_embeddings;
        this.embedding_dim = embedding_dim;
        this.padding_idx = padding_idx;
        register_parameter("weight", torch.empty([num_embeddings, embedding_dim], dtype, requires_grad: true));
        reset_parameters();
    }

    public long num_embeddings { get; }
    public long embedding_dim { get; }
    public long? padding_idx { get; }

    public Tensor weight
    {
        get => get_parameter(nameof(weight))!;
        set => register_parameter(nameof(weight), LayerChecks.SameShape(value, weight, nameof(weight)));
    }

    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() => [(nameof(weight), weight)];

    public void reset_parameters()
    {
        torch.nn.init.normal_(weight);
        if (padding_idx is { } pad)
        {
            using var noGrad = torch.no_grad();
            using var row = weight.select(0, pad);
            row.zero_();
        }
    }

    public override Tensor forward(Tensor input) => F.embedding(input, WeightTransform.Effective(weight), padding_idx ?? -1);
}
