using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// What a compressed checkpoint says about its model: enough to rebuild it with
/// <see cref="ModelZoo.Create"/> and to feed it the inputs it was trained on.
/// </summary>
public sealed record CompressedModelDescription(
    string Arch, double Width, double Depth, InputShape Input, string Dataset, Normalization? Normalization,
    QuantizationSpec Quantization, string Method)
{
    /// <summary>The run's seed: it keys the dataset split (and the generated sets), so evaluation can rebuild the same test data.</summary>
    public long? Seed { get; init; }

    /// <summary>The run's <c>dataset.validation_split</c>, for the same reason.</summary>
    public double? ValidationSplit { get; init; }

    /// <summary>
    /// The run's <c>dataset.subset</c> (null: every example), for the same reason. <see cref="SubsetRecorded"/> is false for
    /// files written before the field existed, whose subset is unknown.
    /// </summary>
    public int? Subset { get; init; }

    /// <summary>Whether the file states its subset (a null <see cref="Subset"/> then means every example).</summary>
    public bool SubsetRecorded { get; init; } = true;

    /// <summary>A character model's vocabulary in token order; evaluation checks a text dataset against it.</summary>
    public string? Vocabulary { get; init; }

    /// <summary>
    /// The learned-step quantizers on layer inputs (QKD / QAT with <c>activation_bits</c>); loading installs
    /// them on the rebuilt model. Empty for methods that keep activations in full precision.
    /// </summary>
    public IReadOnlyList<ActivationQuantizer> ActivationQuantizers { get; init; } = [];
}
