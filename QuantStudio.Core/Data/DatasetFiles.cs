namespace QuantStudio.Core.Data;

/// <summary>Finding dataset files on disk, downloading the missing ones, and saying where they belong when they are absent.</summary>
internal static class DatasetFiles
{
    /// <summary>The path of <paramref name="name"/> in <paramref name="folder"/>, as given or without its .gz; null when neither exists.</summary>
    public static string? FindMaybeGzipped(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (File.Exists(path))
            return path;
        if (name.EndsWith(".gz", StringComparison.Ordinal) && File.Exists(path[..^3]))
            return path[..^3];
        return null;
    }

    /// <summary>Downloads every file whose destination does not exist yet.</summary>
    public static async Task DownloadMissingAsync(DatasetLoadContext context, IEnumerable<(RemoteFile File, string Destination)> files)
    {
        foreach (var (file, destination) in files)
        {
            if (File.Exists(destination))
                continue;
            await context.Downloader.DownloadAsync(file, destination, context.Options.DownloadProgress, context.CancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>The error for files that are not there: which, the exact folder, the expected names, and the download option.</summary>
    public static DatasetFileException Missing(string dataset, string folder, IEnumerable<string> missing, string expectedLayout,
        IReadOnlyList<RemoteFile> downloads)
    {
        var full = Path.GetFullPath(folder);
        var missingList = missing.ToList();
        var names = string.Join(", ", missingList);
        var from = downloads.Count > 0
            ? $" from {string.Join(", ", downloads.Select(d => d.Urls[0]).Distinct())}"
            : "";
        return new DatasetFileException(
            $"{dataset}: missing {names} in '{full}'. Expected layout: {expectedLayout}. Put the files there (or point dataset.root at the folder that holds them), " +
            $"or set \"download\": true in the dataset spec to fetch them{from} with a SHA-256 check. See docs/datasets.md.",
            full) { MissingFiles = missingList, ExpectedLayout = expectedLayout };
    }
}
