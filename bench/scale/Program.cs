using System.Diagnostics;
using System.Globalization;
using Npgsql;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Runs;
using RabbitMQ.Client;

// The same batch of independent small runs, trained by 1 `quantstudio worker` and then by 2 (1 torch thread each), each time on
// a fresh database and queue: prints each batch's wall time and the throughput ratio. The clock starts when the workers are
// started (their start-up is part of the figure) and stops when the last run has ended.
var settings = Args.Parse(args);
var cli = settings.Cli;
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()} at start");
Console.WriteLine($"batch: {settings.Runs} runs of post-training / quantized distillation on shapes (LeNet-5, subset {settings.Subset}, " +
                  $"{settings.Epochs} epochs), workers with --threads 1");
var results = new List<(int Workers, double Seconds)>();
foreach (var workers in settings.WorkerCounts)
{
    var seconds = await RunBatchAsync(settings, workers, cli);
    results.Add((workers, seconds));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{workers} worker(s): {settings.Runs} runs in {seconds:F1} s, {settings.Runs / seconds * 60:F2} runs/min (load average now {LoadAverage()})"));
}
if (results.Count >= 2)
{
    var baseline = results[0];
    foreach (var r in results.Skip(1))
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput ratio {r.Workers} workers / {baseline.Workers}: {baseline.Seconds / r.Seconds:F2}"));
}
return 0;

static async Task<double> RunBatchAsync(Args settings, int workerCount, string cli)
{
    var database = "qs_bench_" + Guid.NewGuid().ToString("N")[..12];
    var queue = "qs-bench-" + Guid.NewGuid().ToString("N")[..12];
    var admin = settings.Postgres;
    var connection = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
    await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
    var work = Path.Combine(Path.GetTempPath(), "qs-bench-" + Guid.NewGuid().ToString("N")[..8]);
    var processes = new List<Process>();
    try
    {
        var storeOptions = new PostgresStoreOptions { ConnectionString = connection };
        await using var store = new PostgresRunStore(storeOptions);
        await store.InitializeAsync();
        await using var publisher = new RunWorkQueue(settings.RabbitMq, queue, "scale bench");
        var ids = new List<long>();
        for (var i = 0; i < settings.Runs; i++)
        {
            var run = await store.CreateRunAsync(new NewRun($"bench {i}", Spec(i, settings), DateTimeOffset.UtcNow));
            await publisher.PublishAsync(run.Id);
            ids.Add(run.Id);
        }
        var clock = Stopwatch.StartNew();
        for (var w = 0; w < workerCount; w++)
            processes.Add(StartWorker(cli, connection, settings.RabbitMq, queue, Path.Combine(work, $"w{w}"), $"bench-{w}"));
        while (true)
        {
            var runs = await store.ListRunsAsync();
            if (runs.Where(r => ids.Contains(r.Id)).All(r => !r.Status.IsActive()))
            {
                var failed = runs.Where(r => ids.Contains(r.Id) && r.Status != RunStatus.Finished).ToList();
                if (failed.Count > 0)
                    throw new InvalidOperationException($"{failed.Count} run(s) did not finish: {failed[0].Status} {failed[0].LastError}");
                return clock.Elapsed.TotalSeconds;
            }
            if (processes.Any(p => p.HasExited))
                throw new InvalidOperationException("a worker exited");
            await Task.Delay(200);
        }
    }
    finally
    {
        foreach (var p in processes)
        {
            if (!p.HasExited)
                Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!p.WaitForExit(30_000))
                p.Kill(entireProcessTree: true);
        }
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await DeleteQueueAsync(settings.RabbitMq, queue);
        if (Directory.Exists(work))
            Directory.Delete(work, true);
    }
}

static ExperimentSpec Spec(int i, Args settings) => new()
{
    Name = $"bench {i}",
    Seed = i + 1,
    Dataset = new DatasetSpec { Name = "shapes", Subset = settings.Subset, ValidationSplit = 0.2 },
    Teacher = i % 2 == 1 ? new TeacherSpec { Arch = "lenet5-small", Train = new OptimizerSpec { Name = "sgd", Lr = 0.05, Epochs = 2, BatchSize = 32 } } : null,
    Student = new StudentSpec { Arch = "lenet5" },
    Method = i % 2 == 1 ? Methods.QuantizedDistillation : Methods.PostTraining,
    Quantization = new QuantizationSpec { Bits = 4, BucketSize = 256 },
    Optimizer = new OptimizerSpec { Name = "sgd", Lr = 0.05, Epochs = settings.Epochs, BatchSize = 32 },
    Precision = "fp32",
};

static Process StartWorker(string cli, string postgres, string rabbitMq, string queue, string dir, string name)
{
    var info = new ProcessStartInfo(cli) { RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (var a in new[] { "worker", "--postgres", postgres, "--rabbitmq", rabbitMq, "--queue", queue, "--threads", "1",
                 "--work-dir", dir, "--data", dir, "--name", name })
        info.ArgumentList.Add(a);
    var p = Process.Start(info)!;
    p.OutputDataReceived += (_, _) => { };
    p.ErrorDataReceived += (_, _) => { };
    p.BeginOutputReadLine();
    p.BeginErrorReadLine();
    return p;
}

static async Task ExecuteAsync(string connection, string sql)
{
    await using var c = new NpgsqlConnection(connection);
    await c.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, c);
    await cmd.ExecuteNonQueryAsync();
}

static async Task DeleteQueueAsync(string uri, string queue)
{
    var factory = new ConnectionFactory { Uri = new Uri(uri) };
    await using var c = await factory.CreateConnectionAsync();
    await using var ch = await c.CreateChannelAsync();
    await ch.QueueDeleteAsync(queue);
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

internal sealed record Args(string Postgres, string RabbitMq, string Cli, int Runs, int Epochs, int Subset, int[] WorkerCounts)
{
    public static Args Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        return new Args(
            Get("--postgres", "Host=127.0.0.1;Port=5432;Username=quantstudio;Password=quantstudio;Database=postgres"),
            Get("--rabbitmq", "amqp://guest:guest@127.0.0.1:5672/"),
            Get("--cli", "QuantStudio.Cli/bin/Release/net10.0/quantstudio"),
            int.Parse(Get("--runs", "8"), CultureInfo.InvariantCulture),
            int.Parse(Get("--epochs", "4"), CultureInfo.InvariantCulture),
            int.Parse(Get("--subset", "960"), CultureInfo.InvariantCulture),
            Get("--workers", "1,2").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray());
    }
}
