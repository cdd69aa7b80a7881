using System.Globalization;
using System.Text.RegularExpressions;

namespace QuantStudio.Core.Distributed;

/// <summary>
/// The <c>QuantStudio:Distributed</c> settings (also <c>QuantStudio__Distributed__Postgres=...</c> in the environment, and the
/// flags of <c>quantstudio worker</c>). Absent, the app runs embedded: SQLite and the in-process queue. Present, runs are stored
/// in PostgreSQL and trained by <c>quantstudio worker</c> processes that take them from a RabbitMQ queue.
/// </summary>
public sealed partial class DistributedOptions
{
    public const string Section = "QuantStudio:Distributed";
    public const string DefaultQueue = "quantstudio.runs";
    public const string PostgresArtifacts = "postgres";
    public const string FolderArtifactsPrefix = "folder:";

    /// <summary>The shared store: an Npgsql connection string.</summary>
    public string? Postgres { get; set; }

    /// <summary>The work queue's broker: an AMQP URI (amqp://user:password@host:5672/vhost).</summary>
    public string? RabbitMq { get; set; }

    /// <summary>The durable quorum queue that holds one message per queued run.</summary>
    public string Queue { get; set; } = DefaultQueue;

    /// <summary>How many times a run may be started by a worker that then died before the run is failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often a worker proves it still holds its run (and looks for a cancel request).</summary>
    public int HeartbeatSeconds { get; set; } = 10;

    /// <summary>
    /// Where run files live: <c>postgres</c> (in the shared database, the default) or <c>folder:/path</c> (a folder every
    /// web node and worker mounts, NFS say).
    /// </summary>
    public string Artifacts { get; set; } = PostgresArtifacts;

    /// <summary>True when any distributed setting is given: the app then needs all of them.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Postgres) || !string.IsNullOrWhiteSpace(RabbitMq);

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>A holder whose heartbeat is older than this is taken for dead: three missed heartbeats.</summary>
    public TimeSpan StaleAfter => TimeSpan.FromSeconds(3 * HeartbeatSeconds);

    /// <summary>The shared folder when <see cref="Artifacts"/> names one; null for PostgreSQL.</summary>
    public string? ArtifactsFolder =>
        Artifacts.StartsWith(FolderArtifactsPrefix, StringComparison.Ordinal) ? Artifacts[FolderArtifactsPrefix.Length..] : null;

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,200}$")]
    private static partial Regex QueueName();

    /// <summary>What is wrong with the settings, each naming its setting; empty when they can be used.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Postgres))
            problems.Add("Postgres: the connection string of the shared PostgreSQL store is required in distributed mode " +
                         "(Host=db;Username=quantstudio;Password=...;Database=quantstudio)");
        if (string.IsNullOrWhiteSpace(RabbitMq))
            problems.Add("RabbitMq: the AMQP URI of the work queue's broker is required in distributed mode (amqp://user:password@host:5672/)");
        else if (!Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            problems.Add($"RabbitMq: '{Redact(RabbitMq)}' is not an AMQP URI (amqp://user:password@host:5672/)");
        if (string.IsNullOrWhiteSpace(Queue) || !QueueName().IsMatch(Queue))
            problems.Add($"Queue: '{Queue}' is not a queue name (1 to 200 letters, digits, '.', '_', ':' or '-')");
        if (MaxAttempts is < 1 or > 100)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"MaxAttempts: must be between 1 and 100, got {MaxAttempts}"));
        if (HeartbeatSeconds is < 1 or > 3600)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"HeartbeatSeconds: must be between 1 and 3600, got {HeartbeatSeconds}"));
        if (Artifacts != PostgresArtifacts && (ArtifactsFolder is not { } folder || !Path.IsPathFullyQualified(folder)))
            problems.Add($"Artifacts: must be '{PostgresArtifacts}' or '{FolderArtifactsPrefix}' followed by an absolute path, got '{Artifacts}'");
        return problems;
    }

    /// <summary>Throws one exception naming every problem, each with the section's prefix.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new InvalidOperationException($"{Section}: " + string.Join("; ", problems));
    }

    /// <summary>The URI without its password, for messages and logs.</summary>
    public static string Redact(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.UserInfo.Contains(':')
            ? uri.Replace(u.UserInfo, u.UserInfo[..u.UserInfo.IndexOf(':')] + ":***", StringComparison.Ordinal)
            : uri;
}
