using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Training;
using QuantStudio.Tests.Cli;
using QuantStudio.Tests.Training;
using QuantStudio.Tests.Web;

namespace QuantStudio.Tests.Sweeps;

/// <summary>`quantstudio sweep`: its errors, a sweep run here, and a sweep queued on a server and waited for.</summary>
[Collection(TrainingCollection.Name)]
public sealed class SweepCommandTests : IDisposable
{
    private readonly string dir = TrainingRuns.NewDirectory();
    private readonly List<QuantStudioFactory> factories = [];

    public void Dispose()
    {
        foreach (var f in factories)
        {
            f.Dispose();
            QuantStudioFactory.DeleteData(f.DataDirectory);
        }
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string SpecFile(string json)
    {
        var path = Path.Combine(dir, "spec.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string TinySpec = """
        {
          "seed": 3,
          "method": "post_training",
          "dataset": { "name": "shapes", "subset": 96 },
          "student": { "arch": "cifar-student-3" },
          "quantization": { "bits": 4, "bucket_size": 256 },
          "optimizer": { "epochs": 1, "batch_size": 32 },
          "precision": "fp32"
        }
        """;

    /// <summary>The table's data rows: cells split on runs of spaces (no cell holds two spaces).</summary>
    private static List<string[]> Rows(string stdout) =>
        stdout.Split('\n').TakeWhile(l => l.Trim().Length > 0).Skip(1)
            .Select(l => System.Text.RegularExpressions.Regex.Split(l.Trim(), @"\s{2,}")).ToList();

    [Fact]
    public void A_sweep_runs_here_one_run_after_another_and_prints_its_table_and_frontier()
    {
        var spec = SpecFile(TinySpec);
        var outDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = CommandRuns.Run(new SweepCommand(TrainingRuns.SmallShapes),
            "--spec", spec, "--axis", "quantization.bits=2,8", "--out", outDir);

        Assert.True(code == 0, stderr);
        Assert.Contains("run 1/2: bits=2", stderr);
        Assert.Contains("run 2/2: bits=8", stderr);
        // Each run in its own folder, as train --out writes one, with the axis value in its spec.
        var summaries = new[] { "1-bits=2", "2-bits=8" }.Select(f => RunSummary.Read(Path.Combine(outDir, f, ExperimentRunner.SummaryFileName))).ToList();
        Assert.Equal([2, 8], summaries.Select(s => s.Bits));
        Assert.All(new[] { "1-bits=2", "2-bits=8" }, f => Assert.True(File.Exists(Path.Combine(outDir, f, ExperimentRunner.ModelFileName)), f));

        // The frontier, from the two summaries by its definition: the smaller run is on it; the larger one only if it is
        // also more accurate.
        Assert.True(summaries[0].PackedBytes < summaries[1].PackedBytes);
        var expected = summaries[1].StudentAccuracy > summaries[0].StudentAccuracy ? new[] { "1", "2" } : ["1"];
        var rows = Rows(stdout);
        Assert.Equal(["1", "2"], rows.Select(r => r[0]));
        Assert.Equal(["2", "8"], rows.Select(r => r[1]));
        Assert.All(rows, r => Assert.Equal("finished", r[2]));
        Assert.Equal(expected, rows.Where(r => r[^1] == SweepTableMark).Select(r => r[0]));
        Assert.Equal((summaries[0].StudentAccuracy!.Value * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%", rows[0][3]);
        Assert.Contains($"Pareto frontier (accuracy against packed size, {expected.Length} of 2 finished runs):", stdout);
        Assert.Contains("  run 1  bits=2  ", stdout);

        // DIR/sweep.json says the same.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, SweepCommand.SummaryFileName)));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["1-bits=2", "2-bits=8"], runs.Select(r => r.GetProperty("folder").GetString()));
        Assert.Equal(expected, runs.Where(r => r.GetProperty("on_frontier").GetBoolean()).Select(r => r.GetProperty("n").GetInt64().ToString()));
        Assert.Equal(8, runs[1].GetProperty("values").GetProperty("quantization.bits").GetInt32());
    }

    private const string SweepTableMark = QuantStudio.Core.Sweeps.SweepTable.FrontierMark;

    [Fact]
    public async Task A_sweep_queued_on_a_server_is_waited_for_and_printed_with_the_server_s_frontier()
    {
        var factory = new QuantStudioFactory(settings: new Dictionary<string, string?> { ["QuantStudio:ApiKey"] = "sweep-key" })
        {
            OtherRunner = new FiguresRunner(new Dictionary<int, double> { [2] = 0.5, [4] = 0.8, [8] = 0.79 }),
        };
        factories.Add(factory);
        var command = new SweepCommand(serverHandler: factory.Server.CreateHandler(), pollInterval: TimeSpan.FromMilliseconds(50));
        var spec = SpecFile(SweepsApiTests.BaseSpec);

        var (code, stdout, stderr) = CommandRuns.Run(command, "--spec", spec, "--axis", "quantization.bits=2,4,8", "--name", "bits",
            "--server", "http://localhost", "--api-key", "sweep-key", "--wait");

        Assert.True(code == 0, stderr);
        var sweep = Assert.Single(await factory.Store.ListSweepsAsync());
        var stored = await factory.Store.ListSweepRunsAsync(sweep.Id);
        Assert.StartsWith($"sweep {sweep.Id} \"bits\": 3 runs queued on http://localhost/", stdout);
        Assert.Contains("run ids: " + string.Join(" ", stored.Select(r => r.Id)), stdout);
        Assert.Contains($"sweep {sweep.Id}: 3 of 3 runs ended", stderr);

        // The printed frontier is the server's: 2 and 4 bits; 8 is larger than 4 and less accurate.
        var rows = Rows(stdout[stdout.IndexOf("run  ", StringComparison.Ordinal)..]);
        Assert.Equal(stored.Select(r => r.Id.ToString()), rows.Select(r => r[0]));
        Assert.Equal(["2", "4", "8"], rows.Select(r => r[1]));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", "sweep-key");
        var served = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<JsonElement>(client, $"/api/sweeps/{sweep.Id}");
        var frontier = served.GetProperty("frontier").EnumerateArray().Select(e => e.GetInt64().ToString()).ToList();
        Assert.Equal(stored.Take(2).Select(r => r.Id.ToString()), frontier);
        Assert.Equal(frontier, rows.Where(r => r[^1] == SweepTableMark).Select(r => r[0]));
        Assert.Equal(["50.0%", "80.0%", "79.0%"], rows.Select(r => r[3]));

        // Without the key the server's refusal is one line.
        var (refused, _, err) = CommandRuns.Run(command, "--spec", spec, "--axis", "quantization.bits=2", "--server", "http://localhost");
        Assert.Equal(1, refused);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("401 API key required", err);
    }

    [Fact]
    public async Task A_sweep_the_server_refuses_is_one_line_naming_the_run_and_nothing_is_queued()
    {
        var factory = new QuantStudioFactory();
        factories.Add(factory);
        var command = new SweepCommand(serverHandler: factory.Server.CreateHandler());
        var (code, stdout, stderr) = CommandRuns.Run(command, "--spec", SpecFile(SweepsApiTests.BaseSpec),
            "--axis", "quantization.bits=2,9", "--axis", "method=post_training,full_precision", "--server", "http://localhost/");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal(
            "quantstudio sweep: POST http://localhost/api/sweeps: 400 The sweep is invalid: axes[0]: run \"bits=9 method=post_training\": " +
            "quantization.bits: 9 is out of range; allowed: 1 to 8",
            stderr.Trim());
        Assert.Empty(await factory.Store.ListRunsAsync());
    }

    [Theory]
    [InlineData(2, "option '--spec' is required", "--axis", "quantization.bits=2")]
    [InlineData(2, "give at least one --axis", "--spec", "s.json", "--out", "o")]
    [InlineData(2, "option '--out' is required", "--spec", "s.json", "--axis", "quantization.bits=2")]
    [InlineData(2, "--wait goes with --server", "--spec", "s.json", "--axis", "quantization.bits=2", "--out", "o", "--wait")]
    [InlineData(2, "--out applies to a sweep run here", "--spec", "s.json", "--axis", "quantization.bits=2", "--out", "o", "--server", "http://localhost")]
    [InlineData(2, "option '--axis' needs a value", "--spec", "s.json", "--out", "o", "--axis")]
    [InlineData(1, "--axis quantization.bits=2,x: quantization.bits takes a whole number; 'x' is not one", "--spec", "{spec}", "--axis", "quantization.bits=2,x", "--out", "o")]
    [InlineData(1, "--axis quantization.bitz=2: unknown field 'quantization.bitz'; did you mean quantization.bits", "--spec", "{spec}", "--axis", "quantization.bitz=2", "--out", "o")]
    [InlineData(1, "axes[0]: run \"bits=9\": quantization.bits: 9 is out of range", "--spec", "{spec}", "--axis", "quantization.bits=2,9", "--out", "o")]
    [InlineData(1, "axes: the sweep makes 6 runs (3 × 2 values); at most 4 are allowed (set by --max-runs)", "--spec", "{spec}", "--axis", "quantization.bits=2,4,8", "--axis=seed=1,2", "--out", "o", "--max-runs", "4")]
    [InlineData(1, "no such spec file 'missing.json'", "--spec", "missing.json", "--axis", "quantization.bits=2", "--out", "o")]
    public void Bad_input_is_one_line_and_starts_nothing(int exit, string message, params string[] args)
    {
        var spec = SpecFile(TinySpec);
        var outDir = Path.Combine(dir, "o");
        var (code, stdout, stderr) = CommandRuns.Run(new SweepCommand(),
            args.Select(a => a == "{spec}" ? spec : a == "o" ? outDir : a).ToArray());

        Assert.Equal(exit, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("quantstudio sweep: ", stderr);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(outDir));
    }
}
