// Load on the runs hub: one simulated run emitting events at a steady pace, N concurrent SignalR followers on it
// (Follow from seq 0, joining over the first seconds, so each replays some history and then goes live). Checks that
// every follower received exactly the stored event sequence and samples the server's resident memory every second.
//
// With --pages N it opens N run pages in headless Chromium instead (see PageFollowers.cs).
//
// Usage: dotnet run -c Release -- --web <QuantStudio.Web.dll> [--followers 50] [--seconds 60] [--step-ms 20] [--pages 20]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using QuantStudio.Tests.Web;

var settings = Arguments.Parse(args);
var webDll = Path.GetFullPath(settings.Get("web", Path.Combine("QuantStudio.Web", "bin", "Release", "net10.0", "QuantStudio.Web.dll")));
var followers = settings.GetInt("followers", 50);
var pages = settings.GetInt("pages", 0);
var seconds = settings.GetInt("seconds", 60);
// Pages keep every step point (no thinning) and a chart keeps 2,000 points before it thins: 50 ms steps stay under that.
var stepMs = settings.GetInt("step-ms", pages > 0 ? 50 : 20);
var joinSeconds = settings.GetInt("join-seconds", 10);
if (!File.Exists(webDll))
{
    Console.Error.WriteLine($"QuantStudio.Web.dll not found at {webDll}; build QuantStudio.Web (bench/web/run.sh does) or pass --web");
    return 2;
}

// The run: 3 epochs whose steps add up to the requested duration.
const int epochs = 3;
var stepsPerEpoch = Math.Max(1, seconds * 1000 / stepMs / epochs);
if (pages > 0 && stepsPerEpoch * epochs > 2000)
    Console.Error.WriteLine($"warning: {stepsPerEpoch * epochs} steps: past a chart's 2,000 points the pages thin their series and the latency is not measured for every point; use a longer --step-ms");
var data = Path.Combine(Path.GetTempPath(), "qs-webbench-" + Guid.NewGuid().ToString("N"));
var server = ServerProcess.Start(webDll, data, stepMs, stepsPerEpoch, pages > 0);
try
{
    var baseUri = await server.Listening.WaitAsync(TimeSpan.FromSeconds(60));
    Console.WriteLine($"server: pid {server.Pid} at {baseUri}; run: {epochs} epochs × {stepsPerEpoch} steps every {stepMs} ms (about {seconds} s)");
    using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    var rss = new List<(double T, long Kb)>();
    var clock = Stopwatch.StartNew();
    using var stopSampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!stopSampling.IsCancellationRequested)
        {
            if (server.ResidentKilobytes() is { } kb)
                lock (rss)
                    rss.Add((clock.Elapsed.TotalSeconds, kb));
            try
            {
                await Task.Delay(1000, stopSampling.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    });

    var spec = $$"""
        {
          "name": "hub load",
          "dataset": { "name": "shapes" },
          "teacher": { "arch": "cifar-teacher", "width": 0.5 },
          "student": { "arch": "cifar-student-3" },
          "method": "quantized_distillation",
          "quantization": { "bits": 4, "bucket_size": 256 },
          "optimizer": { "epochs": {{epochs}} }
        }
        """;
    var created = await http.PostAsync("/api/runs", new StringContent(spec, System.Text.Encoding.UTF8, "application/json"));
    created.EnsureSuccessStatusCode();
    var runId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    var runStart = clock.Elapsed;
    if (pages > 0)
    {
        var code = await PageFollowers.RunAsync(baseUri, http, runId, pages, server.ResidentKilobytes, server.Pid, clock);
        await stopSampling.CancelAsync();
        await sampler;
        return code;
    }

    var hubUri = new Uri($"ws://{baseUri.Authority}/hubs/runs");
    var deadline = TimeSpan.FromSeconds(seconds + joinSeconds + 120);
    using var overall = new CancellationTokenSource(deadline);
    var tasks = Enumerable.Range(0, followers).Select(i => Task.Run(async () =>
    {
        await Task.Delay(TimeSpan.FromSeconds(joinSeconds * (double)i / Math.Max(1, followers)), overall.Token);
        return await Follower.RunAsync(i, hubUri, runId, overall.Token);
    })).ToList();
    var results = await Task.WhenAll(tasks);
    var runEnd = clock.Elapsed;
    await Task.Delay(1500); // one more sample after the run, with every follower gone
    await stopSampling.CancelAsync();
    await sampler;

    // The store's sequence is the reference.
    var stored = new List<long>();
    while (true)
    {
        var page = (await http.GetFromJsonAsync<JsonElement[]>($"/api/runs/{runId}/events?afterSeq={stored.LastOrDefault()}&limit=10000"))!;
        if (page.Length == 0)
            break;
        stored.AddRange(page.Select(e => e.GetProperty("seq").GetInt64()));
    }
    var status = (await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("run").GetProperty("status").GetString();

    var expected = stored.ToArray();
    var complete = 0;
    long delivered = 0, missing = 0, duplicates = 0, outOfOrder = 0;
    foreach (var r in results)
    {
        delivered += r.Seqs.Count;
        var distinct = r.Seqs.Distinct().ToHashSet();
        duplicates += r.Seqs.Count - distinct.Count;
        missing += expected.Count(s => !distinct.Contains(s));
        outOfOrder += r.Seqs.Zip(r.Seqs.Skip(1)).Count(p => p.Second <= p.First);
        if (r.Seqs.SequenceEqual(expected) && r.Error is null)
            complete++;
    }
    var latencies = results.SelectMany(r => r.LiveLatencyMs).Order().ToArray();
    double Pct(double p) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(p * latencies.Length))];

    Console.WriteLine($"run {runId}: {status}, {expected.Length} events stored over {(runEnd - runStart).TotalSeconds:F1} s");
    Console.WriteLine($"followers: {followers}, joined over the first {joinSeconds} s; complete (exactly the stored sequence): {complete}/{followers}");
    Console.WriteLine($"events delivered: {delivered} (expected {(long)expected.Length * followers}); missing: {missing}; duplicates: {duplicates}; out of order: {outOfOrder}");
    foreach (var r in results.Where(r => r.Error is not null || !r.Seqs.SequenceEqual(expected)).Take(10))
        Console.WriteLine($"  follower {r.Index}: {r.Seqs.Count} events, error: {r.Error ?? "none"}");
    Console.WriteLine($"live delivery latency (event time to receipt, events received after joining): p50 {Pct(0.5):F1} ms, p99 {Pct(0.99):F1} ms, max {(latencies.Length > 0 ? latencies[^1] : double.NaN):F1} ms");
    Console.WriteLine($"per-follower events: {string.Join(" ", results.Select(r => r.Seqs.Count))}");
    lock (rss)
    {
        if (rss.Count > 0)
        {
            static string Mb(long kb) => (kb / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";
            var during = rss.Where(s => s.T >= runStart.TotalSeconds && s.T <= runEnd.TotalSeconds).ToList();
            Console.WriteLine($"server RSS ({rss.Count} samples, 1/s): min {Mb(rss.Min(s => s.Kb))}, max {Mb(rss.Max(s => s.Kb))}, end {Mb(rss[^1].Kb)}");
            if (during.Count >= 4)
            {
                var q = during.Count / 4;
                Console.WriteLine($"server RSS during the run: first quarter max {Mb(during.Take(q).Max(s => s.Kb))}, last quarter max {Mb(during.Skip(3 * q).Max(s => s.Kb))}");
            }
            Console.WriteLine("server RSS samples (MB): " + string.Join(" ", rss.Select(s => (s.Kb / 1024.0).ToString("F0", CultureInfo.InvariantCulture))));
        }
    }
    return complete == followers && status == "finished" ? 0 : 1;
}
finally
{
    server.Kill();
    try
    {
        Directory.Delete(data, true);
    }
    catch (IOException)
    {
    }
}

/// <summary>One follower: its own WebSocket connection, Follow(runId, 0) until the stream completes.</summary>
internal static class Follower
{
    public sealed record Result(int Index, List<long> Seqs, List<double> LiveLatencyMs, string? Error);

    public static async Task<Result> RunAsync(int index, Uri hubUri, long runId, CancellationToken ct)
    {
        var seqs = new List<long>();
        var latencies = new List<double>();
        try
        {
            await using var hub = await HubProtocolClient.ConnectAsync(async (uri, token) =>
            {
                var ws = new ClientWebSocket();
                await ws.ConnectAsync(uri, token);
                return ws;
            }, hubUri, ct);
            var joined = DateTimeOffset.UtcNow;
            var stream = await hub.StreamAsync("Follow", [runId, 0], ct);
            await foreach (var e in stream.ReadAllAsync(ct))
            {
                seqs.Add(e.GetProperty("seq").GetInt64());
                var sent = e.GetProperty("time").GetDateTimeOffset();
                if (sent > joined)
                    latencies.Add((DateTimeOffset.UtcNow - sent).TotalMilliseconds);
            }
            return new Result(index, seqs, latencies, null);
        }
        catch (Exception ex)
        {
            return new Result(index, seqs, latencies, ex.GetType().Name + ": " + ex.Message);
        }
    }
}

/// <summary>The web app as a child process with the simulated runner, on a free loopback port.</summary>
internal sealed partial class ServerProcess
{
    private readonly Process process;
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process) => this.process = process;

    public Task<Uri> Listening => listening.Task;
    public int Pid => process.Id;

    public static ServerProcess Start(string webDll, string dataDirectory, int stepMs, int stepsPerEpoch, bool everyStep)
    {
        var dir = Path.GetDirectoryName(webDll)!;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[]
                 {
                     webDll, "--urls=http://127.0.0.1:0", "--contentRoot=" + dir, "--QuantStudio:DataDirectory=" + dataDirectory,
                     "--QuantStudio:SimulatedRunner=true", "--QuantStudio:SimulatedStepMilliseconds=" + stepMs,
                     "--QuantStudio:SimulatedStepsPerEpoch=" + stepsPerEpoch, "--Logging:LogLevel:Default=Warning",
                     "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", "--Logging:Console:ColorBehavior=Disabled",
                 })
            psi.ArgumentList.Add(a);
        if (everyStep)
            psi.ArgumentList.Add("--QuantStudio:LiveStepMetricsPerSecond=0");
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var server = new ServerProcess(p);
        p.OutputDataReceived += (_, e) => server.Line(e.Data);
        p.ErrorDataReceived += (_, e) => server.Line(e.Data);
        p.Exited += (_, _) => server.listening.TrySetException(new InvalidOperationException("the server exited before it listened"));
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return server;
    }

    private void Line(string? line)
    {
        if (line is null)
            return;
        if (Listen().Match(line) is { Success: true } m)
            listening.TrySetResult(new Uri(m.Groups[1].Value + "/"));
        else if (line.Contains("fail:", StringComparison.Ordinal) || line.Contains("Exception", StringComparison.Ordinal))
            Console.Error.WriteLine("server: " + line);
    }

    /// <summary>VmRSS from /proc/&lt;pid&gt;/status, in kB.</summary>
    public long? ResidentKilobytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(20));
        }
        process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listen();
}

/// <summary>--name value pairs.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> values = [];

    public static Arguments Parse(string[] args)
    {
        var a = new Arguments();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --name value pairs, got '{args[i]}'");
            a.values[args[i][2..]] = args[++i];
        }
        return a;
    }

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public int GetInt(string name, int fallback) =>
        values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
