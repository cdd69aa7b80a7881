namespace QuantStudio.Core.Experiments;

/// <summary>The model and dataset names a spec may use (the zoo and the dataset registry fill these in).</summary>
public static class ExperimentCatalog
{
    public static readonly IReadOnlyList<string> Models =
    [
        "mlp", "lenet5", "lenet5-small",
        "cifar-teacher", "cifar-student-1", "cifar-student-2", "cifar-student-3",
        "resnet20", "resnet32", "resnet56", "wrn", "mobilenetv2", "char-lstm",
    ];

    /// <summary>The names <see cref="Data.DatasetRegistry"/> can load.</summary>
    public static IReadOnlyList<string> Datasets => Data.DatasetRegistry.Names;
}
