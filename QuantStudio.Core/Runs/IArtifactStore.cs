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
