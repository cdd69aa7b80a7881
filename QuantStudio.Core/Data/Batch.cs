using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Data;

/// <summary>
/// One batch: inputs (float32 N×C×H×W images, or int64 N×L tokens) and int64 targets (N, or N×L).
/// The consumer owns it and must dispose it; its tensors belong to no dispose scope because they are
/// made on the loader's thread.
/// </summary>
public sealed class Batch : IDisposable
{
    public Batch(Tensor input, Tensor target, int[] exampleIndices, int epoch, int index)
    {
        Input = input;
        Target = target;
        ExampleIndices = exampleIndices;
        Epoch = epoch;
        Index = index;
    }

    public Tensor Input { get; }
    public Tensor Target { get; }
    /// <summary>Positions of the examples within their split (stable across epochs: keys for cached teacher logits).</summary>
    public int[] ExampleIndices { get; }
    public int Epoch { get; }
    /// <summary>The batch's position within its epoch, 0-based.</summary>
    public int Index { get; }
    public int Size => ExampleIndices.Length;

    public void Dispose()
    {
        Input.Dispose();
        Target.Dispose();
    }
}
