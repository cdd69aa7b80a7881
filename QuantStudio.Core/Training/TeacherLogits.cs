using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>
/// The frozen teacher's logits for a training batch. When training batches are not augmented, a
/// training example always looks the same, so the teacher's answer for it never changes: it is
/// computed once for the whole training split (in the training precision, in evaluation mode) and
/// looked up by <see cref="Batch.ExampleIndices"/> afterwards — the same numbers, without a teacher
/// forward pass per step. With augmentation, or when the cache would not fit its memory budget,
/// the teacher runs on every batch.
/// </summary>
public sealed class TeacherLogits : IDisposable
{
    /// <summary>Largest cache kept in memory (a character LM's logits grow with text × vocabulary).</summary>
    public const long MaxCacheBytes = 1L << 30;

    private readonly Module<Tensor, Tensor> teacher;
    private readonly LoadedDataset data;
    private readonly int batchSize;
    private readonly bool bf16;
    private readonly Func<Tensor, Tensor> prepareInput;
    private Tensor? cache;

    public TeacherLogits(Module<Tensor, Tensor> teacher, LoadedDataset data, int batchSize, bool bf16, Func<Tensor, Tensor> prepareInput, bool allowCache = true)
    {
        this.teacher = teacher;
        this.data = data;
        this.batchSize = batchSize;
        this.bf16 = bf16;
        this.prepareInput = prepareInput;
        var perExample = (long)data.Info.NumClasses * (data.Info.Kind == DatasetKind.CharText ? data.Info.SequenceLength : 1) * sizeof(float);
        UsesCache = allowCache && !data.Augment && perExample * data.Train.Count <= MaxCacheBytes;
    }

    public Module<Tensor, Tensor> Teacher => teacher;

    /// <summary>True when logits come from the once-computed table rather than a forward pass per batch.</summary>
    public bool UsesCache { get; }

    /// <summary>True once the table has been computed (it is built on first use).</summary>
    public bool IsCached => cache is not null;

    /// <summary>Float32 logits for <paramref name="batch"/>, without gradient, in the current dispose scope.</summary>
    public Tensor For(Batch batch, Tensor input)
    {
        if (!UsesCache)
            return Compute(input);
        cache ??= Build();
        using var index = torch.tensor(batch.ExampleIndices.Select(i => (long)i).ToArray());
        return cache.index_select(0, index);
    }

    /// <summary>Forgets the table (the teacher's weights changed, as after QKD's co-studying).</summary>
    public void Invalidate()
    {
        cache?.Dispose();
        cache = null;
    }

    private Tensor Compute(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = teacher.training;
        teacher.eval();
        try
        {
            using var precision = ComputePrecision.Bf16(bf16);
            var logits = teacher.call(input);
            return scope.MoveToOuter(logits.dtype == ScalarType.Float32 ? logits : logits.to_type(ScalarType.Float32));
        }
        finally
        {
            teacher.train(wasTraining);
        }
    }

    private Tensor Build()
    {
        var loader = data.CreateEvalLoader(data.Train, batchSize);
        var parts = new List<Tensor>();
        try
        {
            using var epoch = loader.Epoch(0);
            foreach (var batch in epoch)
            {
                using (batch)
                using (var scope = torch.NewDisposeScope())
                {
                    var input = prepareInput(batch.Input);
                    parts.Add(Compute(input).DetachFromDisposeScope());
                }
            }
            // Rows follow the split's order, so row i is example i.
            return torch.cat(parts, 0).DetachFromDisposeScope();
        }
        finally
        {
            foreach (var p in parts)
                p.Dispose();
        }
    }

    public void Dispose() => Invalidate();
}
