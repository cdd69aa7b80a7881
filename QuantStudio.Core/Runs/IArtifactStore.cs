namespace QuantStudio.Core.Runs;

/// <summary>
/// A run's files (teacher, training checkpoint, model.qsc, ONNX, summary, metrics.jsonl) where every process that needs
/// them can reach them. Embedded: the run's folder under the data directory. Distributed: shared by every worker and web node.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores (or replaces) one file of a run; a reader sees the old or the new content, never a mix.</summary>
    Task PutAsync(long runId, string name, Stream content, CancellationToken ct = default);

    /// <summary>The file's content, or null when the run has no such file.</summary>
    Task<Stream?> OpenReadAsync(long runId, string name, CancellationToken ct = default);

    /// <summary>The run's files, by name.</summary>
    Task<IReadOnlyList<ArtifactInfo>> ListAsync(long runId, CancellationToken ct = default);

    /// <summary>Removes every file of the run.</summary>
    Task DeleteRunAsync(long runId, CancellationToken ct = default);
}

public sealed record ArtifactInfo(string Name, long Length, DateTimeOffset UpdatedAt);

/// <summary>What a run's file may be called: a plain file name, the same in every store.</summary>
public static class ArtifactNames
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the problem unless <paramref name="name"/> is a plain file name.</summary>
    public static void Check(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var problem = name switch
        {
            "" => "it is empty",
            "." or ".." => "it names a folder",
            _ when name.Contains('/') || name.Contains('\\') => "it contains a path separator",
            _ when name.StartsWith('.') => "it starts with '.'",
            _ when name.Any(char.IsControl) => "it contains a control character",
            _ when name.Length > 255 => "it is longer than 255 characters",
            _ => null,
        };
        if (problem is not null)
            throw new ArgumentException($"artifact name '{name}' is not a plain file name: {problem}", nameof(name));
    }
}
