namespace QuantStudio.Core.Evaluation;

/// <summary>
/// A model measured on one split. Classifiers report <see cref="Accuracy"/> (a fraction in [0, 1]);
/// character language models report <see cref="Perplexity"/> = exp(<see cref="Loss"/>) instead.
/// </summary>
/// <param name="Examples">Examples evaluated (images, or sequences for a language model).</param>
/// <param name="Predictions">Predictions scored: one per image, or one per character.</param>
/// <param name="Loss">Mean cross-entropy per prediction (nats).</param>
/// <param name="Correct">Predictions whose arg-max is the target.</param>
public sealed record EvaluationResult(string Split, long Examples, long Predictions, double Loss, long Correct, double? Accuracy, double? Perplexity);
