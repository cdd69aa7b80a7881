using System.Globalization;

namespace QuantStudio.Core.Runs;

/// <summary>
/// A run's files in its folder, the embedded layout: <c>data/runs/&lt;id&gt;/&lt;name&gt;</c>. A file is written to a
/// hidden temporary file beside it, flushed to disk and then moved over the old one (an atomic rename), so a reader opens
/// the old or the new file, never a half-written one, and a failed write leaves the old file as it was.
/// </summary>
public sealed class FolderArtifactStore(string runsDirectory) : IArtifactStore
{
    private const string PartialSuffix = ".partial";

    /// <summary>The folder that holds the run's files.</summary>
    public string RunDirectory(long runId) => Path.Combine(runsDirectory, runId.ToString(CultureInfo.InvariantCulture));

    public async Task PutAsync(long runId, string name, Stream content, CancellationToken ct = default)
    {
        ArtifactNames.Check(name);
        var dir = RunDirectory(runId);
        Directory.CreateDirectory(dir);
        // Hidden (a leading '.', which no artifact name has), so listings skip it while it is being written.
        var partial = Path.Combine(dir, $".{Guid.NewGuid():N}{PartialSuffix}");
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await content.CopyToAsync(file, ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, Path.Combine(dir, name), overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(long runId, string name, CancellationToken ct = default)
    {
        ArtifactNames.Check(name);
        try
        {
            // FileShare.Delete: a replace (rename over it) or a delete goes ahead while this stream reads the old content.
            Stream s = new FileStream(Path.Combine(RunDirectory(runId), name), FileMode.Open, FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
            return Task.FromResult<Stream?>(s);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<IReadOnlyList<ArtifactInfo>> ListAsync(long runId, CancellationToken ct = default)
    {
        var dir = new DirectoryInfo(RunDirectory(runId));
        if (!dir.Exists)
            return Task.FromResult<IReadOnlyList<ArtifactInfo>>([]);
        IReadOnlyList<ArtifactInfo> files = dir.EnumerateFiles()
            .Where(f => !f.Name.StartsWith('.'))
            .Select(f => new ArtifactInfo(f.Name, f.Length, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(files);
    }

    public Task DeleteRunAsync(long runId, CancellationToken ct = default)
    {
        var dir = RunDirectory(runId);
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        return Task.CompletedTask;
    }
}
