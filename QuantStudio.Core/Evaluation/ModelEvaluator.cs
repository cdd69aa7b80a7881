using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Evaluation;

/// <summary>
/// Accuracy and loss of a classifier, or loss and perplexity of a character model, over a whole
/// split: fp32 (autocast off), eval mode, no gradients, every batch's tensors freed as it goes.
/// The trainer (every epoch's validation), the run's summary and `quantstudio eval` all use it, so
/// their numbers agree.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>The batch size evaluation uses unless told otherwise (the same in the trainer and the CLI).</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="split"/> in order; the model's training mode is restored afterwards.
    /// <paramref name="prepareInput"/> turns each batch's input into what the model takes (channels_last images); null passes it as it is.
    /// An empty split gives no predictions, a NaN loss and no accuracy.
    /// </summary>
    public static EvaluationResult Evaluate(Module<Tensor, Tensor> model, LoadedDataset data, DataSplit split,
        int batchSize = DefaultBatchSize, Func<Tensor, Tensor>? prepareInput = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(split);
        var text = data.Info.Kind == DatasetKind.CharText;
        var wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long examples = 0, predictions = 0, correct = 0;
        try
        {
            using var noGrad = torch.no_grad();
            using var fp32 = ComputePrecision.Fp32();
            using var epoch = data.CreateEvalLoader(split, batchSize).Epoch(0, cancellationToken: cancellationToken);
            foreach (var batch in epoch)
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var output = model.call(prepareInput is null ? batch.Input : prepareInput(batch.Input));
                    // A language model predicts every position: score [N·L, V] against [N·L].
                    var logits = text ? output.reshape(-1, output.size(-1)) : output;
                    var target = text ? batch.Target.reshape(-1) : batch.Target;
                    if (logits.dim() != 2 || logits.size(0) != target.size(0))
                        throw new InvalidOperationException(
                            $"the model's output [{string.Join(", ", output.shape)}] does not match targets [{string.Join(", ", batch.Target.shape)}]");
                    lossSum += torch.nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), target, reduction: Reduction.Sum).AsDouble();
                    correct += logits.argmax(1).eq(target).sum().AsInt64();
                    predictions += target.size(0);
                    examples += batch.Size;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var loss = predictions == 0 ? double.NaN : lossSum / predictions;
        return text
            ? new EvaluationResult(split.Name, examples, predictions, loss, correct, null, Math.Exp(loss))
            : new EvaluationResult(split.Name, examples, predictions, loss, correct, predictions == 0 ? null : (double)correct / predictions, null);
    }
}
