using QuantStudio.Core.Data;
using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Training;

/// <summary>Loss with accuracy (images) or perplexity (character LM) over a split.</summary>
public sealed record EvalResult(double Loss, double? Accuracy, double? Perplexity, long Examples);

/// <summary>Evaluates a network in evaluation mode and fp32 (never under autocast), in fixed order.</summary>
public static class Evaluator
{
    public static EvalResult Evaluate(Module<Tensor, Tensor> model, LoadedDataset data, DataSplit split, int batchSize,
        Func<Tensor, Tensor> prepareInput, CancellationToken cancellationToken = default)
    {
        var wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long correct = 0, count = 0, examples = 0;
        try
        {
            using var noGrad = torch.no_grad();
            using var epoch = data.CreateEvalLoader(split, batchSize).Epoch(0, 0, cancellationToken);
            foreach (var batch in epoch)
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var logits = model.call(prepareInput(batch.Input));
                    var (c, n) = Losses.Correct(logits, batch.Target);
                    // Mean loss per prediction times predictions: sums add up across batches of any size.
                    lossSum += Losses.CrossEntropy(logits, batch.Target).item<float>() * (double)n;
                    correct += c;
                    count += n;
                    examples += batch.Size;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var loss = count == 0 ? double.NaN : lossSum / count;
        return data.Info.Kind == DatasetKind.CharText
            ? new EvalResult(loss, null, Math.Exp(loss), examples)
            : new EvalResult(loss, count == 0 ? null : (double)correct / count, null, examples);
    }
}
