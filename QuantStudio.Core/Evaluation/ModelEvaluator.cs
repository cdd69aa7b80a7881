using QuantStudio.Core.Data;
using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Evaluation;

/// <summary>
/// Accuracy and loss of a classifier, or loss and perplexity of a character model, over a whole
/// split: fp32 (autocast off), eval mode, no gradients, every batch's tensors freed as it goes.
/// The trainer and `quantstudio eval` both use it, so their numbers agree.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>The batch size evaluation uses unless told otherwise (the same in the trainer and the CLI).</summary>
    public const int DefaultBatchSize = 256;

    public static EvaluationResult Evaluate(Module<Tensor, Tensor> model, LoadedDataset data, DataSplit split,
        int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default) =>
        Evaluate(model, data.CreateEvalLoader(split, batchSize), data.Info.Kind, cancellationToken);

    /// <summary>Runs <paramref name="model"/> over one epoch of <paramref name="loader"/>; the model's training mode is restored afterwards.</summary>
    public static EvaluationResult Evaluate(Module<Tensor, Tensor> model, BatchLoader loader, DatasetKind kind, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        var wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long examples = 0, predictions = 0, correct = 0;
        try
        {
            using var noGrad = torch.no_grad();
            using var fp32 = torch.autocast(enabled: false);
            using var epoch = loader.Epoch(0, cancellationToken: cancellationToken);
            foreach (var batch in epoch)
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    var output = model.call(batch.Input);
                    // A language model predicts every position: score [N·L, V] against [N·L].
                    var logits = kind == DatasetKind.CharText ? output.reshape(-1, output.size(-1)) : output;
                    var target = kind == DatasetKind.CharText ? batch.Target.reshape(-1) : batch.Target;
                    if (logits.dim() != 2 || logits.size(0) != target.size(0))
                        throw new InvalidOperationException(
                            $"the model's output [{string.Join(", ", output.shape)}] does not match targets [{string.Join(", ", batch.Target.shape)}]");
                    lossSum += torch.nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), target, reduction: Reduction.Sum).item<double>();
                    correct += logits.argmax(1).eq(target).sum().item<long>();
                    predictions += target.size(0);
                    examples += batch.Size;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        if (predictions == 0)
            throw new InvalidOperationException($"the {loader.Split.Name} split is empty: nothing to evaluate");
        var loss = lossSum / predictions;
        return kind == DatasetKind.CharText
            ? new EvaluationResult(loader.Split.Name, examples, predictions, loss, correct, null, Math.Exp(loss))
            : new EvaluationResult(loader.Split.Name, examples, predictions, loss, correct, (double)correct / predictions, null);
    }
}
