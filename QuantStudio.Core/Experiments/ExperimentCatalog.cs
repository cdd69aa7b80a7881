namespace QuantStudio.Core.Experiments;

/// <summary>The model and dataset names a spec may use (the zoo and the dataset registry fill these in).</summary>
public static class ExperimentCatalog
{
    public static IReadOnlyList<string> Models => Core.Models.ModelZoo.Names;

    public static bool IsKnownModel(string arch) => Core.Models.ModelZoo.IsKnown(arch);

    public static readonly IReadOnlyList<string> Datasets =
    [
        "shapes", "text-synthetic", "mnist", "fashion-mnist", "cifar10", "cifar100", "text",
    ];
}
