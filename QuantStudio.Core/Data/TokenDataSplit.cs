using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Data;

/// <summary>
/// A token stream cut into non-overlapping windows: example i is tokens [i·L, i·L + L) as input and
/// the same window shifted by one as next-token targets, both int64 N×L.
/// </summary>
public sealed class TokenDataSplit : DataSplit
{
    public TokenDataSplit(string name, int[] tokens, int sequenceLength, int vocabSize) : base(name)
    {
        if (sequenceLength < 1)
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "must be at least 1");
        Tokens = tokens;
        SequenceLength = sequenceLength;
        VocabSize = vocabSize;
    }

    public int[] Tokens { get; }
    public int SequenceLength { get; }
    public int VocabSize { get; }
    public override int Count => Tokens.Length <= 1 ? 0 : (Tokens.Length - 1) / SequenceLength;

    public override Batch CreateBatch(ReadOnlySpan<int> indices, bool augment, long seed, int epoch, int batchIndex)
    {
        var n = indices.Length;
        var l = SequenceLength;
        var input = new long[n * l];
        var target = new long[n * l];
        for (var i = 0; i < n; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"sequence index out of range for the {Name} split of {Count}");
            var start = index * l;
            for (var t = 0; t < l; t++)
            {
                input[i * l + t] = Tokens[start + t];
                target[i * l + t] = Tokens[start + t + 1];
            }
        }
        var x = torch.tensor(input, [n, l]);
        var y = torch.tensor(target, [n, l]);
        return new Batch(x, y, indices.ToArray(), epoch, batchIndex);
    }
}
