using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Training;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio worker`: trains the runs of a distributed QuantStudio, one at a time, taken from the RabbitMQ work queue and
/// stored in the shared PostgreSQL store (docs/scale-out.md). Settings come from the flags or from the same environment
/// variables as the web node's (QuantStudio__Distributed__Postgres, ...); a flag wins. Runs until SIGTERM or Ctrl+C, which
/// puts a run in progress back in the queue; exits 1 when the store fails for good (the run's message stays unacknowledged).
/// </summary>
public sealed class WorkerCommand : ICommand
{
    public const string Usage =
        "quantstudio worker [--postgres CONN] [--rabbitmq amqp://...] [--queue NAME] [--threads N] [--work-dir DIR] [--data DIR] " +
        "[--max-attempts N] [--heartbeat-seconds N] [--artifacts postgres|folder:/path] [--name NAME]";

    private const string EnvironmentPrefix = "QuantStudio__Distributed__";

    public string Name => "worker";
    public string Summary => "train runs from the distributed work queue (RabbitMQ + PostgreSQL)";
    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stderr));

    /// <summary>The settings from the flags, falling back to the environment, then to the defaults.</summary>
    public static DistributedOptions ReadSettings(CommandArguments a, Func<string, string?> environment)
    {
        string? Setting(string flag, string key) => a.Optional(flag) ?? environment(EnvironmentPrefix + key);
        var options = new DistributedOptions
        {
            Postgres = Setting("--postgres", "Postgres"),
            RabbitMq = Setting("--rabbitmq", "RabbitMq"),
        };
        if (Setting("--queue", "Queue") is { } queue)
            options.Queue = queue;
        if (Setting("--artifacts", "Artifacts") is { } artifacts)
            options.Artifacts = artifacts;
        options.MaxAttempts = Number(Setting("--max-attempts", "MaxAttempts"), "--max-attempts", 1, 100) ?? options.MaxAttempts;
        options.HeartbeatSeconds = Number(Setting("--heartbeat-seconds", "HeartbeatSeconds"), "--heartbeat-seconds", 1, 3600) ?? options.HeartbeatSeconds;
        var problems = options.Problems();
        if (problems.Count > 0)
            throw new UsageException(string.Join("; ", problems.Select(p => p
                .Replace("Postgres:", "--postgres (or QuantStudio__Distributed__Postgres):", StringComparison.Ordinal)
                .Replace("RabbitMq:", "--rabbitmq (or QuantStudio__Distributed__RabbitMq):", StringComparison.Ordinal))));
        return options;
    }

    private static int? Number(string? text, string name, int min, int max)
    {
        if (text is null)
            return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"{name} must be an integer in {min}..{max}, got '{text}'");
        return v;
    }

    private int Execute(IReadOnlyList<string> args, TextWriter stderr)
    {
        var a = CommandArguments.Parse(args,
            ["--postgres", "--rabbitmq", "--queue", "--threads", "--work-dir", "--data", "--max-attempts", "--heartbeat-seconds", "--artifacts", "--name"]);
        if (a.Positionals.Count != 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var options = ReadSettings(a, Environment.GetEnvironmentVariable);
        int? threads = a.Has("--threads") ? a.Int("--threads", 1, 1024) : null;
        var settings = WorkerSettings.From(options, a.Optional("--work-dir") ?? Path.Combine("data", "worker"), a.Optional("--data") ?? "data",
            a.Optional("--name"));
        return RunAsync(options, settings, threads, stderr).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(DistributedOptions options, WorkerSettings settings, int? threads, TextWriter stderr)
    {
        using var loggers = LoggerFactory.Create(b =>
        {
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            b.AddFilter("Microsoft", LogLevel.Warning);
            // Progress goes to stderr, as for every command.
            b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        var log = loggers.CreateLogger("quantstudio.worker");

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        var storeOptions = new PostgresStoreOptions
        {
            ConnectionString = options.Postgres!,
            HeartbeatStaleAfter = options.StaleAfter,
            OnRetry = (e, attempt) => log.LogWarning("The store is unreachable (attempt {Attempt}): {Error}; retrying", attempt, e.Message),
        };
        await using var store = new PostgresRunStore(storeOptions);
        await using var feed = new PostgresChangeFeed(storeOptions, onHandlerError: e => log.LogError(e, "A change feed handler failed"));
        var artifacts = options.ArtifactsFolder is { } folder ? (IArtifactStore)new FolderArtifactStore(folder) : new PostgresArtifactStore(storeOptions);
        await using var queue = new RunWorkQueue(options.RabbitMq!, options.Queue, $"quantstudio worker {settings.Name}", log);
        var worker = new RunWorker(store, store, feed, artifacts, new ExperimentRunner { Threads = threads }, settings, log: log);
        try
        {
            await store.InitializeAsync(stop.Token);
            await feed.StartAsync(stop.Token);
            log.LogInformation("Worker {Name} ({Threads} threads) takes runs from '{Queue}' at {Broker}; work folder {Dir}", settings.Name,
                threads?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all", options.Queue, DistributedOptions.Redact(options.RabbitMq!),
                settings.WorkDirectory);
            await queue.ConsumeAsync(worker.HandleDeliveryAsync, stop.Token);
            log.LogInformation("Worker {Name} stopped", settings.Name);
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            log.LogInformation("Worker {Name} stopped", settings.Name);
            return 0;
        }
        catch (WorkerStoreException e)
        {
            log.LogCritical("{Error}", e.Message);
            stderr.WriteLine($"quantstudio worker: {e.Message}");
            return CommandRunner.ExitInputError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            await feed.StopAsync(CancellationToken.None);
            if (artifacts is IAsyncDisposable d)
                await d.DisposeAsync();
        }
    }
}
