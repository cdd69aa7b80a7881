using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Models;

/// <summary>
/// Character-level language model: embedding → multi-layer LSTM (batch first) → linear decoder.
/// Input is int64 [N, T] character ids; output is logits [N, T, vocabulary].
/// </summary>
public sealed class CharLstm : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly LSTM lstm;
    private readonly Linear decoder;

    public CharLstm(int vocabulary, long embeddingDim = 64, long hidden = 256, int layers = 2, double dropout = 0) : base("char-lstm")
    {
        Vocabulary = vocabulary;
        embedding = register_module("embedding", torch.nn.Embedding(vocabulary, embeddingDim));
        lstm = register_module("lstm", torch.nn.LSTM(embeddingDim, hidden, layers, batch_first: true, dropout: dropout));
        decoder = register_module("decoder", torch.nn.Linear(hidden, vocabulary));
    }

    public int Vocabulary { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = lstm.call(embedding.call(input));
        return scope.MoveToOuter(decoder.call(output));
    }
}
