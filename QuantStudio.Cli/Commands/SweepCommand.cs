using System.Text.Json;
using System.Text.Json.Nodes;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Sweeps;
using QuantStudio.Core.Training;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio sweep --spec S.json --axis PATH=V1,V2 ...`: expands a spec by its axes into runs (see docs/sweeps.md) and
/// checks every one before any starts. Here, the runs train one after another, each into DIR/&lt;n&gt;-&lt;name&gt; as
/// `train --out` writes a run, with progress on stderr; the table of runs and the Pareto frontier go to stdout and to
/// DIR/sweep.json. With --server the sweep is queued there (<see cref="SweepServerClient"/>), and --wait follows it to the end.
/// </summary>
/// <param name="datasetOptions">What a spec does not set (generated set sizes); the defaults when null.</param>
/// <param name="serverHandler">The HTTP handler to reach a server through (tests); a plain HttpClient when null.</param>
/// <param name="pollInterval">How often --wait asks the server; 2 s when null.</param>
public sealed class SweepCommand(DatasetLoadOptions? datasetOptions = null, HttpMessageHandler? serverHandler = null, TimeSpan? pollInterval = null)
    : ICommand
{
    public const string Usage =
        "quantstudio sweep --spec S.json --axis PATH=V1,V2[,...] [--axis ...] [--name NAME] [--out DIR] [--data DIR] [--max-runs N] " +
        "[--server URL [--api-key KEY] [--wait]]";

    public const string AxisOption = "--axis";
    public const string SummaryFileName = "sweep.json";

    public string Name => "sweep";
    public string Summary => "expand a spec by axes into runs, run them here or queue them on a server, print the runs and the frontier";
    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stdout, stderr));

    private int Execute(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var (axisTexts, rest) = TakeAxes(args);
        var a = CommandArguments.Parse(rest, ["--spec", "--out", "--data", "--name", "--max-runs", "--server", "--api-key"], ["--wait"]);
        if (a.Positionals.Count != 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var specPath = a.Required("--spec");
        if (axisTexts.Count == 0)
            throw new UsageException($"give at least one {AxisOption} PATH=V1,V2 (quantization.bits=2,4,8); usage: {Usage}");
        var server = a.Optional("--server");
        if (server is null)
        {
            foreach (var option in new[] { "--api-key", "--wait" })
                if (a.Has(option))
                    throw new UsageException($"{option} goes with --server URL");
            if (!a.Has("--out"))
                throw new UsageException("option '--out' is required to run the sweep here (or give --server URL to queue it on a server)");
        }
        else
        {
            foreach (var option in new[] { "--out", "--data", "--max-runs" })
                if (a.Has(option))
                    throw new UsageException($"{option} applies to a sweep run here; a server keeps its runs' files and sets its own limit");
        }

        if (!File.Exists(specPath))
            throw new InputException($"no such spec file '{specPath}'");
        var axes = new List<SweepAxis>();
        foreach (var text in axisTexts)
        {
            var (axis, error) = SweepAxis.Parse(text);
            axes.Add(axis ?? throw new InputException($"{AxisOption} {text}: {error}"));
        }
        var request = new SweepRequest(a.Optional("--name"), File.ReadAllText(specPath), axes);

        if (server is not null)
            return new SweepServerClient(server, a.Optional("--api-key"), serverHandler, pollInterval ?? TimeSpan.FromSeconds(2))
                .Run(request, specPath, a.Has("--wait"), stdout, stderr);

        var plan = SweepExpander.ExpandAsync(request, a.Int("--max-runs", 1, 100_000, SweepExpander.DefaultMaxRuns), limitSetting: "--max-runs")
            .GetAwaiter().GetResult();
        if (!plan.IsValid)
            return Refuse(stderr, specPath, plan.Errors);
        return RunHere(plan, a.Required("--out"), a.Optional("--data") ?? "data", stdout, stderr);
    }

    /// <summary>`--axis` may be given many times (CommandArguments takes each option once): its values are taken out first.</summary>
    private static (List<string> Axes, List<string> Others) TakeAxes(IReadOnlyList<string> args)
    {
        var axes = new List<string>();
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == AxisOption)
            {
                if (i + 1 >= args.Count)
                    throw new UsageException($"option '{AxisOption}' needs a value, such as quantization.bits=2,4,8");
                axes.Add(args[++i]);
            }
            else if (args[i].StartsWith(AxisOption + "=", StringComparison.Ordinal))
            {
                axes.Add(args[i][(AxisOption.Length + 1)..]);
            }
            else
            {
                rest.Add(args[i]);
            }
        }
        return (axes, rest);
    }

    /// <summary>One line when there is one problem; otherwise a line saying so and one per problem, as `train` lists a spec's.</summary>
    internal static int Refuse(TextWriter stderr, string specPath, IReadOnlyList<SpecError> errors)
    {
        if (errors.Count == 1)
        {
            stderr.WriteLine($"quantstudio sweep: {errors[0]}");
            return CommandRunner.ExitInputError;
        }
        stderr.WriteLine($"quantstudio sweep: the sweep of '{specPath}' is invalid:");
        foreach (var e in errors)
            stderr.WriteLine($"  {e}");
        return CommandRunner.ExitInputError;
    }

    private int RunHere(SweepPlan plan, string outDir, string dataDir, TextWriter stdout, TextWriter stderr)
    {
        Directory.CreateDirectory(outDir);
        var runner = new ExperimentRunner { DataOptions = datasetOptions };
        var outcomes = new List<SweepRunOutcome>();
        var folders = new List<string>();
        var failures = new List<string>();
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            for (var i = 0; i < plan.Runs.Count; i++)
            {
                var run = plan.Runs[i];
                var dir = Path.Combine(outDir, FolderName(i + 1, run.Name));
                folders.Add(dir);
                stderr.WriteLine($"run {i + 1}/{plan.Runs.Count}: {run.Name} -> {dir}");
                var progress = new ProgressLine(stderr);
                var status = RunStatus.Finished;
                try
                {
                    runner.Run(new RunContext(run.Spec, dir, new RunEventStream([progress]), false, dataDir), cancel.Token);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    status = RunStatus.Cancelled;
                }
                catch (Exception e)
                {
                    status = RunStatus.Failed;
                    progress.Finish();
                    stderr.WriteLine($"run {i + 1} ({run.Name}) failed: {e.Message.ReplaceLineEndings(" ")}");
                    failures.Add($"{run.Name}: {e.Message.ReplaceLineEndings(" ")}");
                }
                finally
                {
                    progress.Finish();
                }
                outcomes.Add(Outcome(i + 1, run, status, dir));
                if (status == RunStatus.Cancelled)
                    break;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        SweepTable.Write(stdout, plan.Axes, outcomes);
        WriteSummary(Path.Combine(outDir, SummaryFileName), plan, outcomes, folders);
        if (cancel.IsCancellationRequested)
        {
            stderr.WriteLine($"quantstudio sweep: cancelled after {outcomes.Count - 1} of {plan.Runs.Count} runs");
            return 130;
        }
        if (failures.Count > 0)
        {
            stderr.WriteLine($"quantstudio sweep: {failures.Count} of {plan.Runs.Count} runs failed; the first: {failures[0]}");
            return CommandRunner.ExitInputError;
        }
        return 0;
    }

    /// <summary>DIR/&lt;n&gt;-&lt;name&gt;, the name's spaces and any character a file name should not hold made underscores.</summary>
    public static string FolderName(int n, string runName) =>
        $"{n}-{new string(runName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '=' or '_' ? c : '_').ToArray())}";

    private static SweepRunOutcome Outcome(int n, SweepRun run, RunStatus status, string dir)
    {
        var summaryPath = Path.Combine(dir, ExperimentRunner.SummaryFileName);
        var summary = status == RunStatus.Finished && File.Exists(summaryPath) ? RunSummary.Read(summaryPath) : null;
        return new SweepRunOutcome(n, run.Name, status, run.Values.Select(v => (JsonElement?)v).ToList(), summary?.StudentAccuracy,
            summary?.StudentPerplexity, summary?.PackedBytes, summary?.CompressionRatio, run.Spec.Method,
            Methods.Quantizes(run.Spec.Method) ? run.Spec.Quantization.Bits : null, run.Spec.Quantization.BucketSize);
    }

    /// <summary>DIR/sweep.json: the sweep as asked for and each run's folder, values, figures and place on the frontier.</summary>
    private static void WriteSummary(string path, SweepPlan plan, IReadOnlyList<SweepRunOutcome> outcomes, IReadOnlyList<string> folders)
    {
        var frontier = SweepFrontier.Of(outcomes);
        var runs = new JsonArray();
        foreach (var (r, i) in outcomes.Select((r, i) => (r, i)))
        {
            var values = new JsonObject();
            foreach (var (axis, v) in plan.Axes.Zip(r.Values))
                values[axis.Path] = v is { } e ? JsonSerializer.SerializeToNode(e) : null;
            runs.Add(new JsonObject
            {
                ["n"] = r.Id,
                ["name"] = r.Name,
                ["folder"] = Path.GetFileName(folders[i]),
                ["status"] = r.Status.ToName(),
                ["values"] = values,
                ["accuracy"] = r.Accuracy,
                ["perplexity"] = r.Perplexity,
                ["packed_bytes"] = r.PackedBytes,
                ["compression_ratio"] = r.CompressionRatio,
                ["on_frontier"] = frontier.Ids.Contains(r.Id),
            });
        }
        var doc = new JsonObject
        {
            ["name"] = plan.Name,
            ["spec"] = JsonNode.Parse(plan.SpecJson),
            ["axes"] = JsonNode.Parse(SweepAxis.WriteAll(plan.Axes)),
            ["score"] = frontier.Perplexity ? "perplexity" : "accuracy",
            ["runs"] = runs,
        };
        File.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
