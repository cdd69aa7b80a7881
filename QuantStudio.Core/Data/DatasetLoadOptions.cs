namespace QuantStudio.Core.Data;

/// <summary>Settings a host gives the data pipeline that are not part of an experiment spec.</summary>
public sealed record DatasetLoadOptions
{
    /// <summary>Where <c>dataset.root</c> defaults to: &lt;this&gt;/&lt;dataset name&gt;.</summary>
    public string DatasetsDirectory { get; init; } = Path.Combine("data", "datasets");
    /// <summary>Characters per training sequence for the character LM datasets.</summary>
    public int SequenceLength { get; init; } = 64;
    public int ShapesTrainCount { get; init; } = 10_000;
    public int ShapesTestCount { get; init; } = 2_000;
    public int SyntheticTextTrainCharacters { get; init; } = 200_000;
    public int SyntheticTextTestCharacters { get; init; } = 20_000;
    /// <summary>Receives download progress (show it as a bar, or send it as log events).</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }
    /// <summary>The downloader used when <c>dataset.download</c> is true; a default one when null.</summary>
    public DatasetDownloader? Downloader { get; init; }
}

/// <summary>Everything a source needs to load one dataset.</summary>
public sealed record DatasetLoadContext(
    Experiments.DatasetSpec Spec, long Seed, string Root, DatasetLoadOptions Options, CancellationToken CancellationToken)
{
    private DatasetDownloader? downloader;

    public DatasetDownloader Downloader => downloader ??= Options.Downloader ?? new DatasetDownloader();
}

/// <summary>A named dataset the registry can load.</summary>
public interface IDatasetSource
{
    /// <summary>The spec name (<c>dataset.name</c>).</summary>
    string Name { get; }
    DatasetKind Kind { get; }
    string Description { get; }
    /// <summary>Generated in memory from the seed: needs no files.</summary>
    bool IsGenerated { get; }
    /// <summary>The files <c>dataset.download</c> fetches (empty for generated sets).</summary>
    IReadOnlyList<RemoteFile> Downloads { get; }

    Task<LoadedDataset> LoadAsync(DatasetLoadContext context);
}
