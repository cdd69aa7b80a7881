using QuantStudio.Core.Runs;

namespace QuantStudio.Core.Distributed;

/// <summary>Copies between the artifact store and local files.</summary>
public static class ArtifactFiles
{
    /// <summary>Copies a stored file to <paramref name="path"/> (whole or not at all); false when the store has no such file.</summary>
    public static async Task<bool> DownloadAsync(IArtifactStore artifacts, long runId, string name, string path, CancellationToken ct = default)
    {
        await using var source = await artifacts.OpenReadAsync(runId, name, ct);
        if (source is null)
            return false;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".part";
        await using (var target = File.Create(temp))
            await source.CopyToAsync(target, ct);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    /// <summary>Stores a local file under <paramref name="name"/>.</summary>
    public static async Task UploadAsync(IArtifactStore artifacts, long runId, string name, string path, CancellationToken ct = default)
    {
        await using var content = File.OpenRead(path);
        await artifacts.PutAsync(runId, name, content, ct);
    }
}
