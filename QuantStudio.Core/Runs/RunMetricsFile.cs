using QuantStudio.Core.Training;

namespace QuantStudio.Core.Runs;

/// <summary>
/// metrics.jsonl in a run's folder: every stored event of the run, one JSON object per line, in seq order. The file has one
/// writer at a time. While a runner runs, the runner writes it (the trainer appends each event it emits, see
/// <see cref="ExperimentRunner.MetricsFileName"/>); the server appends only the events it stores itself while no runner runs
/// (a cancel before the start, a terminal event a runner failed to emit) and rewrites the file from the store for a run a
/// crash interrupted, whose file may lack the last stored events or end in a torn line.
/// </summary>
public static class RunMetricsFile
{
    public const string FileName = ExperimentRunner.MetricsFileName;

    private const int PageSize = 1000;

    public static string PathIn(string runDirectory) => Path.Combine(runDirectory, FileName);

    /// <summary>Appends one stored event (opening the file for this write only, so no position goes stale).</summary>
    public static void Append(string runDirectory, StoredEvent e)
    {
        Directory.CreateDirectory(runDirectory);
        File.AppendAllText(PathIn(runDirectory), e.Json + "\n");
    }

    /// <summary>Replaces the file with the run's stored events.</summary>
    public static async Task RewriteAsync(string runDirectory, IRunStore store, long runId, CancellationToken ct = default)
    {
        Directory.CreateDirectory(runDirectory);
        var path = PathIn(runDirectory);
        var temp = path + ".tmp";
        await using (var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
        {
            long last = 0;
            while (true)
            {
                var page = await store.ReadEventsAsync(runId, last, PageSize, null, ct);
                foreach (var e in page)
                {
                    await writer.WriteAsync(e.Json + "\n");
                    last = e.Seq;
                }
                if (page.Count < PageSize)
                    break;
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
