using System.Diagnostics;
using QuantStudio.Core.Data;
using QuantStudio.Core.Export.Onnx;

namespace QuantStudio.Core.Evaluation;

/// <summary>
/// Accuracy and loss (or perplexity) of an exported ONNX model run in ONNX Runtime, over a whole split,
/// with the same batches, loss and arg-max rule as <see cref="ModelEvaluator"/>. An exported graph
/// normalizes its input itself, so images are fed as pixels in [0, 1] (<see cref="RawPixels"/>).
/// </summary>
public static class OnnxModelEvaluator
{
    /// <summary>The split's images as pixels in [0, 1], unnormalized: what an exported graph takes.</summary>
    public static DataSplit RawPixels(DataSplit split) =>
        split is ImageDataSplit images ? new ImageDataSplit(split.Name, images.Images, Normalization.Identity(images.Images.Channels), AugmentationPolicy.None) : split;

    /// <summary>
    /// Runs <paramref name="session"/> over <paramref name="split"/> (feed it <see cref="RawPixels"/> for an exported graph).
    /// The first batch's shape is checked against the model's input: <see cref="ArgumentException"/> names both.
    /// </summary>
    public static EvaluationResult Evaluate(OnnxModelSession session, LoadedDataset data, DataSplit split, int batchSize = ModelEvaluator.DefaultBatchSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(split);
        var text = data.Info.Kind == DatasetKind.CharText;
        if (text != session.TakesIds)
            throw new ArgumentException(session.TakesIds
                ? $"the model takes character ids, but dataset '{data.Info.Name}' holds images"
                : $"the model takes images, but dataset '{data.Info.Name}' holds text");
        double lossSum = 0;
        long examples = 0, predictions = 0, correct = 0;
        using var epoch = data.CreateEvalLoader(split, batchSize).Epoch(0, cancellationToken: cancellationToken);
        foreach (var batch in epoch)
        {
            using (batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var shape = batch.Input.shape;
                var (logits, outShape) = text
                    ? session.Run(batch.Input.data<long>().ToArray(), shape)
                    : session.Run(batch.Input.contiguous().data<float>().ToArray(), shape);
                var targets = batch.Target.data<long>().ToArray();
                var classes = (int)outShape[^1];
                if (logits.LongLength != targets.LongLength * classes)
                    throw new InvalidOperationException($"the model's output [{string.Join(", ", outShape)}] does not match targets [{string.Join(", ", batch.Target.shape)}]");
                for (var i = 0; i < targets.Length; i++)
                {
                    var (loss, best) = Score(logits.AsSpan(i * classes, classes), targets[i]);
                    lossSum += loss;
                    correct += best == targets[i] ? 1 : 0;
                }
                predictions += targets.Length;
                examples += batch.Size;
            }
        }
        var mean = predictions == 0 ? double.NaN : lossSum / predictions;
        return text
            ? new EvaluationResult(split.Name, examples, predictions, mean, correct, null, Math.Exp(mean))
            : new EvaluationResult(split.Name, examples, predictions, mean, correct, predictions == 0 ? null : (double)correct / predictions, null);
    }

    // Cross-entropy of one row (log-sum-exp in double) and its arg-max, the first of equal maxima as torch's argmax picks.
    private static (double Loss, int Best) Score(ReadOnlySpan<float> row, long target)
    {
        var best = 0;
        for (var c = 1; c < row.Length; c++)
            if (row[c] > row[best])
                best = c;
        double max = row[best], sum = 0;
        foreach (var v in row)
            sum += Math.Exp(v - max);
        return (max + Math.Log(sum) - row[(int)target], best);
    }

    /// <summary>Median latency of ONNX Runtime at batch 1 and 64 on random inputs of the model's shape (sequences of <paramref name="sequenceLength"/> for text).</summary>
    public static LatencyResult Latency(OnnxModelSession session, int warmup = 3, int iterations = 15, int sequenceLength = 64) =>
        new(MedianMs(session, 1, warmup, iterations, sequenceLength), MedianMs(session, 64, warmup, iterations, sequenceLength));

    public static double MedianMs(OnnxModelSession session, int batch, int warmup = 3, int iterations = 15, int sequenceLength = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var shape = session.InputDims.Select((d, i) => i == 0 ? batch : d >= 0 ? d : sequenceLength).ToArray();
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var random = new Random(1);
        var ids = session.TakesIds ? Enumerable.Range(0, (int)count).Select(_ => (long)random.Next(2)).ToArray() : [];
        var pixels = session.TakesIds ? [] : Enumerable.Range(0, (int)count).Select(_ => random.NextSingle()).ToArray();
        var times = new double[iterations];
        for (var i = -warmup; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            _ = session.TakesIds ? session.Run(ids, shape) : session.Run(pixels, shape);
            if (i >= 0)
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
    }
}
