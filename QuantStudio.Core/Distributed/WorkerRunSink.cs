using QuantStudio.Core.Experiments;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Training;

namespace QuantStudio.Core.Distributed;

/// <summary>
/// Where a worker's run events go: the shared store, each as it is emitted (the store tells every web node). Before an event
/// that says a file was written is stored, the file is in the artifact store: each training checkpoint and the trained teacher
/// as they are saved, so a run taken over by another worker resumes from them, and the run's results (model, ONNX export,
/// summary, teacher, metrics.jsonl) before its terminal event, so a reader who sees the run finished finds its files.
/// Runs on the trainer's thread: training waits for each event to be stored.
/// </summary>
public sealed class WorkerRunSink(long runId, IRunStore store, IArtifactStore artifacts, string runDirectory) : IRunEventSink
{
    /// <summary>The result files uploaded before the terminal event (metrics.jsonl is written from the store).</summary>
    public static readonly IReadOnlyList<string> ResultFileNames =
        [ExperimentRunner.ModelFileName, OnnxRunReport.FileName, ExperimentRunner.SummaryFileName, ExperimentRunner.TeacherFileName];

    private volatile Exception? storeFailure;
    private volatile bool muted;
    private volatile bool dropCancelled;

    /// <summary>The terminal event's status once one is stored.</summary>
    public RunStatus? Outcome { get; private set; }

    /// <summary>Set when storing failed for good: the worker must not acknowledge the run.</summary>
    public Exception? StoreFailure => storeFailure;

    /// <summary>The worker no longer holds the run (another one took it, or it was deleted): nothing more is stored.</summary>
    public void Mute() => muted = true;

    /// <summary>The worker is stopping: the runner's RunCancelled is not the run's end (the run goes back to the queue).</summary>
    public void DropCancelled() => dropCancelled = true;

    public void Emit(RunEvent e)
    {
        if (storeFailure is { } failed)
            throw new WorkerStoreException($"run {runId}: an earlier event could not be stored ({failed.Message})", failed);
        if (muted || (dropCancelled && e is RunCancelled))
            return;
        try
        {
            var stored = StoredEvent.From(runId, e);
            var completion = RunSummaryValues.Completion(e);
            if (e is CheckpointSaved c && CheckpointFile(c) is { } file)
                UploadAsync(file).GetAwaiter().GetResult();
            if (completion is not null)
                UploadResultsAsync(stored).GetAwaiter().GetResult();
            var summary = RunSummaryValues.For(e);
            if (summary.Count > 0)
                store.UpdateSummaryAsync(runId, summary).GetAwaiter().GetResult();
            store.AppendEventAsync(stored, completion).GetAwaiter().GetResult();
            if (completion is not null)
                Outcome = completion.Status;
        }
        catch (Exception ex)
        {
            storeFailure = ex;
            throw new WorkerStoreException($"run {runId}: event {e.Seq} ({RunEventJson.TypeName(e)}) could not be stored: {ex.Message}", ex);
        }
    }

    /// <summary>The file a checkpoint event announces, when it is one another worker needs to resume.</summary>
    private static string? CheckpointFile(CheckpointSaved c) => c.Kind switch
    {
        "training" => TrainingCheckpoint.FileName,
        "teacher" => ExperimentRunner.TeacherFileName,
        _ => null,
    };

    private async Task UploadAsync(string name)
    {
        var path = Path.Combine(runDirectory, name);
        if (!File.Exists(path))
            return;
        await ArtifactFiles.UploadAsync(artifacts, runId, name, path);
    }

    private async Task UploadResultsAsync(StoredEvent terminal)
    {
        foreach (var name in ResultFileNames)
            await UploadAsync(name);
        // Every stored event and the terminal one: the run's whole history, whichever workers trained it.
        // Written beside the runner's own metrics.jsonl, which the runner still has to append the terminal event to.
        var staging = Path.Combine(runDirectory, ".upload");
        await RunMetricsFile.RewriteAsync(staging, store, runId);
        var path = RunMetricsFile.PathIn(staging);
        await File.AppendAllTextAsync(path, terminal.Json + "\n");
        await ArtifactFiles.UploadAsync(artifacts, runId, RunMetricsFile.FileName, path);
        Directory.Delete(staging, recursive: true);
    }
}
