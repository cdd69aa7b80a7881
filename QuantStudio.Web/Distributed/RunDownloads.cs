using Microsoft.Extensions.Options;
using QuantStudio.Web.Api;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Distributed;

/// <summary>
/// A run's files as the run page and the REST API list and serve them: embedded, from the run's folder (through
/// <see cref="RunArtifacts"/>, which keeps every name inside it); distributed, from the shared artifact store the workers fill.
/// </summary>
public sealed class RunDownloads(IOptions<QuantStudioOptions> options, IArtifactStore? shared = null)
{
    /// <summary>The shared artifact store (distributed mode), or null when runs keep their files in their folders.</summary>
    public IArtifactStore? Shared => shared;

    public async Task<IReadOnlyList<ArtifactDto>> ListAsync(long runId, CancellationToken ct = default)
    {
        IEnumerable<(string Name, long Bytes)> files = shared is null
            ? RunArtifacts.List(options.Value.RunDirectory(runId))
            : (await shared.ListAsync(runId, ct)).Select(a => (a.Name, a.Length));
        return files.Select(a => new ArtifactDto(a.Name, a.Bytes,
                $"/api/runs/{runId}/artifacts/{string.Join('/', a.Name.Split('/').Select(Uri.EscapeDataString))}"))
            .ToArray();
    }

    /// <summary>The response serving the file, or null when the run has no such file.</summary>
    public async Task<IResult?> DownloadAsync(long runId, string name, CancellationToken ct = default)
    {
        if (shared is null)
        {
            var path = RunArtifacts.Resolve(options.Value.RunDirectory(runId), name);
            return path is null ? null : Results.File(path, "application/octet-stream", fileDownloadName: Path.GetFileName(path), enableRangeProcessing: true);
        }
        // Names in the store are the run's own file names; anything with a path in it names none of them.
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/') || name.Contains('\\') || name.Contains('\0'))
            return null;
        var content = await shared.OpenReadAsync(runId, name, ct);
        return content is null ? null : Results.Stream(content, "application/octet-stream", fileDownloadName: name, enableRangeProcessing: content.CanSeek);
    }
}
