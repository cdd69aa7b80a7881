using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>A lookup table of <c>num_embeddings</c> vectors; weight [num_embeddings, embedding_dim] initialized N(0, 1) as in PyTorch.</summary>
public sealed class TransformableEmbedding : nn.Module<Tensor, Tensor>, IWeightTransformable
{
    public TransformableEmbedding(long num_embeddings, long embedding_dim) : base("Embedding")
    {
        ShapeGuards.Positive(num_embeddings, nameof(num_embeddings));
        ShapeGuards.Positive(embedding_dim, nameof(embedding_dim));
        this.num_embeddings = num_embeddings;
        this.embedding_dim = embedding_dim;
        weight = LayerInit.Parameter([num_embeddings, embedding_dim]);
        register_parameter(nameof(weight), weight);
        using var noGrad = torch.no_grad();
        weight.normal_();
    }

    public long num_embeddings { get; }
    public long embedding_dim { get; }
    public Parameter weight { get; }

    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() => [(nameof(weight), weight)];

    public override Tensor forward(Tensor input)
    {
        if (input.dtype != ScalarType.Int64)
            throw new ArgumentException($"Embedding expects int64 ids, got {input.dtype}", nameof(input));
        using var scope = NewDisposeScope();
        if (input.numel() > 0)
        {
            var lo = input.min().AsInt64();
            var hi = input.max().AsInt64();
            if (lo < 0 || hi >= num_embeddings)
                throw new ArgumentException($"Embedding ids must be in [0, {num_embeddings}), got ids from {lo} to {hi}", nameof(input));
        }
        var w = WeightTransform.Effective(weight);
        var rows = w.index_select(0, input.flatten());
        var shape = input.shape.Append(embedding_dim).ToArray();
        return scope.MoveToOuter(rows.view(shape));
    }
}
