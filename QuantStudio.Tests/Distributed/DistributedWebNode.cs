using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QuantStudio.Cli.Commands;
using QuantStudio.Tests.Runs;
using QuantStudio.Tests.Web;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Distributed;

/// <summary>A web node in distributed mode (in process) on a test database and queue, and the helpers the scenarios share.</summary>
public sealed class DistributedWebNode : IDisposable
{
    private readonly PostgresTestDatabase db;

    public DistributedWebNode(PostgresTestDatabase db, RabbitTestQueue queue, int heartbeatSeconds = 1)
    {
        this.db = db;
        Queue = queue;
        Root = Path.Combine(Path.GetTempPath(), "qs-dist-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        Factory = new QuantStudioFactory(Path.Combine(Root, "web"), settings: new Dictionary<string, string?>
        {
            ["QuantStudio:Distributed:Postgres"] = db.ConnectionString,
            ["QuantStudio:Distributed:RabbitMq"] = queue.Uri,
            ["QuantStudio:Distributed:Queue"] = queue.Name,
            ["QuantStudio:Distributed:HeartbeatSeconds"] = heartbeatSeconds.ToString(),
        });
        Client = Factory.CreateClient();
    }

    public string Root { get; }
    public RabbitTestQueue Queue { get; }
    public QuantStudioFactory Factory { get; }
    public HttpClient Client { get; }

    public WorkerProcess StartWorker(string name, int maxAttempts = 3, IDictionary<string, string>? environment = null) =>
        WorkerProcess.Start(name, db.ConnectionString, Queue.Uri, Queue.Name, Root, maxAttempts, environment: environment);

    /// <summary>A small run on the generated shapes: LeNet-5 students, a teacher the run trains for quantized distillation.</summary>
    public static string Spec(string name, string method, int epochs, int bits = 4, int subset = 320, int seed = 1) =>
        $$"""
        {
          "name": "{{name}}", "seed": {{seed}},
          "dataset": { "name": "shapes", "subset": {{subset}}, "validation_split": 0.2 },
          {{(method == "quantized_distillation"
              ? "\"teacher\": { \"arch\": \"lenet5-small\", \"train\": { \"name\": \"sgd\", \"lr\": 0.05, \"epochs\": 2, \"batch_size\": 32 } },"
              : "")}}
          "student": { "arch": "lenet5" },
          "method": "{{method}}",
          "quantization": { "bits": {{bits}}, "bucket_size": 256 },
          "optimizer": { "name": "sgd", "lr": 0.05, "epochs": {{epochs}}, "batch_size": 32 },
          "precision": "fp32"
        }
        """;

    public Task<long> CreateRunAsync(string spec) => TestSpecs.CreateRunAsync(Client, spec);

    /// <summary>POST /api/sweeps: the sweep's runs, stored together and each published to the work queue.</summary>
    public async Task<IReadOnlyList<long>> CreateSweepAsync(string spec, string axes)
    {
        var response = await Client.PostAsync("/api/sweeps",
            new StringContent($$"""{ "name": "distributed sweep", "spec": {{spec}}, "axes": {{axes}} }""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("run_ids").EnumerateArray().Select(e => e.GetInt64()).ToList();
    }

    /// <summary>Who holds the run in the store (the worker column the claims keep).</summary>
    public async Task<string?> HolderAsync(long runId)
    {
        await using var c = new NpgsqlConnection(db.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT worker FROM runs WHERE id = @id", c);
        cmd.Parameters.AddWithValue("id", runId);
        return await cmd.ExecuteScalarAsync() as string;
    }

    public async Task<JsonElement[]> EventsAsync(long runId) =>
        (await Client.GetFromJsonAsync<JsonElement[]>($"/api/runs/{runId}/events?limit=10000"))!;

    public async Task<JsonElement> RunAsync(long runId) => (await Client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("run");

    /// <summary>The runs' statuses, in the order of <paramref name="ids"/>.</summary>
    public async Task<List<string>> StatusesAsync(IEnumerable<long> ids)
    {
        var result = new List<string>();
        foreach (var id in ids)
            result.Add((await RunAsync(id)).GetProperty("status").GetString()!);
        return result;
    }

    /// <summary>
    /// A follower of the run on this node from now on (<see cref="RunFollower"/>, fed by the store's change feed): the seqs it
    /// delivers, once the run has ended.
    /// </summary>
    public Task<List<long>> FollowAsync(long runId)
    {
        var follower = Factory.Services.GetRequiredService<RunFollower>();
        return Task.Run(async () =>
        {
            var seqs = new List<long>();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await foreach (var e in follower.FollowAsync(runId, 0, cts.Token))
                seqs.Add(e.Seq);
            return seqs;
        });
    }

    /// <summary>Polls until the condition holds; the workers' logs are in the message when it does not within two minutes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, params WorkerProcess[] workers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what + "\n" + string.Join("\n", workers.Select(w => $"--- {w.Name}\n{w.Log}")));
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every run has ended; the workers' logs are in the message when it times out.</summary>
    public async Task WaitForEndAsync(IReadOnlyList<long> ids, TimeSpan timeout, params WorkerProcess[] workers)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var statuses = await StatusesAsync(ids);
            if (statuses.All(s => s is "finished" or "failed" or "cancelled"))
                return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"runs still active after {timeout}: {string.Join(", ", ids.Zip(statuses, (i, s) => $"{i}={s}"))}\n" +
                            string.Join("\n", workers.Select(w => $"--- {w.Name}\n{w.Log}")));
            await Task.Delay(250);
        }
    }

    /// <summary>Downloads the run's model.qsc from the web app and evaluates it with `quantstudio eval`, in process.</summary>
    /// <summary>Downloads one of the run's model files from the web app (model.qsc, or an ONNX export) and evaluates it with `quantstudio eval`.</summary>
    public async Task<double> EvaluateDownloadedModelAsync(long runId, string file = "model.qsc")
    {
        var response = await Client.GetAsync($"/api/runs/{runId}/artifacts/{file}");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var path = Path.Combine(Root, $"{runId}-{file}");
        await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.True(new EvalCommand().Run(["--model", path], stdout, stderr) == 0, stderr.ToString());
        return JsonDocument.Parse(stdout.ToString()).RootElement.GetProperty("accuracy").GetDouble();
    }

    /// <summary>Seqs 1..N, each once, in order.</summary>
    public static void AssertContiguous(long runId, IEnumerable<long> seqs)
    {
        var list = seqs.ToList();
        Assert.True(list.SequenceEqual(Enumerable.Range(1, list.Count).Select(i => (long)i)),
            $"run {runId}: seqs are not 1..{list.Count}: {string.Join(",", list)}");
    }

    public void Dispose()
    {
        Client.Dispose();
        Factory.Dispose();
        QuantStudioFactory.DeleteData(Root);
    }
}
