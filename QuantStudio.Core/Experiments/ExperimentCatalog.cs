namespace QuantStudio.Core.Experiments;

/// <summary>The model and dataset names a spec may use (the zoo and the dataset registry fill these in).</summary>
public static class ExperimentCatalog
{
    public static IReadOnlyList<string> Models => Core.Models.ModelZoo.Names;

    public static bool IsKnownModel(string arch) => Core.Models.ModelZoo.IsKnown(arch);

    /// <summary>The names <see cref="Data.DatasetRegistry"/> can load.</summary>
    public static IReadOnlyList<string> Datasets => Data.DatasetRegistry.Names;
}
