namespace QuantStudio.Core.Runs;

/// <summary>How the PostgreSQL store (distributed mode) reaches its database and rides out a server that goes away.</summary>
public sealed record PostgresStoreOptions
{
    /// <summary>An Npgsql connection string: <c>Host=db;Port=5432;Username=quantstudio;Password=...;Database=quantstudio</c>.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// How long one operation keeps retrying while the server is unreachable or restarting (connection refused or reset,
    /// admin shutdown, "the database system is starting up"), with a backoff from 0.1 s to 2 s between attempts.
    /// </summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A running run whose worker sent no heartbeat for this long is taken for dead by
    /// <see cref="PostgresRunStore.MarkRunningAsInterruptedAsync"/>. Keep it equal to the workers' own stale limit.
    /// </summary>
    public TimeSpan HeartbeatStaleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Called before each retry with the failure and the attempt that failed (1 for the first); for logging.</summary>
    public Action<Exception, int>? OnRetry { get; init; }
}
