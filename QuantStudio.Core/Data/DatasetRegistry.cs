using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Data;

/// <summary>Maps <c>dataset.name</c> to the source that loads it. The spec validator's allowed names come from here.</summary>
public static class DatasetRegistry
{
    private static readonly IDatasetSource[] Sources =
    [
        new ShapesSource(),
        new SyntheticTextSource(),
        IdxImageSource.Mnist,
        IdxImageSource.FashionMnist,
        CifarSource.Cifar10,
        CifarSource.Cifar100,
        new PlainTextSource(),
    ];

    /// <summary>The generated image set that needs neither files nor a network.</summary>
    public const string OfflineDefault = "shapes";

    public static IReadOnlyList<IDatasetSource> All => Sources;
    public static IReadOnlyList<string> Names { get; } = Sources.Select(s => s.Name).ToArray();

    public static bool Contains(string name) => Sources.Any(s => s.Name == name);

    public static IDatasetSource Get(string name) =>
        Sources.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"unknown dataset '{name}'; allowed: {string.Join(", ", Names)}", nameof(name));

    /// <summary><c>dataset.root</c>, or &lt;datasets directory&gt;/&lt;name&gt; when it is not set.</summary>
    public static string ResolveRoot(DatasetSpec spec, DatasetLoadOptions options) =>
        string.IsNullOrWhiteSpace(spec.Root) ? Path.Combine(options.DatasetsDirectory, spec.Name) : spec.Root;

    /// <summary>
    /// Loads (downloading first when the spec asks and files are missing) and splits a dataset.
    /// Throws <see cref="DatasetFileException"/> for missing or corrupt files, naming the file and where it belongs.
    /// </summary>
    public static Task<LoadedDataset> LoadAsync(DatasetSpec spec, long seed, DatasetLoadOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new DatasetLoadOptions();
        var source = Get(spec.Name);
        if (spec.ValidationSplit is < 0 or > 0.5)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.ValidationSplit, "dataset.validation_split must be between 0 and 0.5");
        if (spec.Subset is < 1)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Subset, "dataset.subset must be at least 1 (or null for all examples)");
        return source.LoadAsync(new DatasetLoadContext(spec, seed, ResolveRoot(spec, options), options, cancellationToken));
    }

    /// <summary>Blocking form of <see cref="LoadAsync"/> for synchronous hosts (the trainer, the CLI).</summary>
    public static LoadedDataset Load(DatasetSpec spec, long seed, DatasetLoadOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => LoadAsync(spec, seed, options, cancellationToken), cancellationToken).GetAwaiter().GetResult();
}
