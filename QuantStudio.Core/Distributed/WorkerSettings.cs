namespace QuantStudio.Core.Distributed;

/// <summary>What one worker process is: its name in the store (who holds a run), its folders and its limits.</summary>
/// <param name="Name">Unique among live workers: host and process id by default.</param>
/// <param name="WorkDirectory">Each run trains in its own folder below this one, removed once the run is handed back.</param>
/// <param name="DataDirectory">Where datasets are read from (datasets/&lt;name&gt;), as on a web node.</param>
public sealed record WorkerSettings(string Name, string WorkDirectory, string DataDirectory, int MaxAttempts, TimeSpan Heartbeat, TimeSpan StaleAfter)
{
    public static string DefaultName() => $"{Environment.MachineName}:{Environment.ProcessId}";

    public static WorkerSettings From(DistributedOptions options, string workDirectory, string dataDirectory, string? name = null) =>
        new(name ?? DefaultName(), Path.GetFullPath(workDirectory), Path.GetFullPath(dataDirectory), options.MaxAttempts, options.Heartbeat,
            options.StaleAfter);

    public string RunDirectory(long runId) => Path.Combine(WorkDirectory, "runs", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
