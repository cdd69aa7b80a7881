using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>
/// Character-level language model: embedding → multi-layer LSTM (batch first) → linear decoder.
/// Input is int64 [N, T] character ids; output is logits [N, T, vocabulary].
/// </summary>
public sealed class CharLstm : Module<Tensor, Tensor>
{
    private readonly TransformableEmbedding embedding;
    private readonly TransformableLstm lstm;
    private readonly TransformableLinear decoder;

    public CharLstm(int vocabulary, long embeddingDim = 64, long hidden = 256, int layers = 2, double dropout = 0) : base("char-lstm")
    {
        Vocabulary = vocabulary;
        embedding = Layer.Embedding(vocabulary, embeddingDim);
        register_module("embedding", embedding);
        lstm = Layer.Lstm(embeddingDim, hidden, layers, batch_first: true, dropout: dropout);
        register_module("lstm", lstm);
        decoder = Layer.Linear(hidden, vocabulary);
        register_module("decoder", decoder);
    }

    public int Vocabulary { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = lstm.call(embedding.call(input));
        return scope.MoveToOuter(decoder.call(output));
    }
}
