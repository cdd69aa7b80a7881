using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio train --spec S.json --out DIR [--resume] [--data DIR]`: runs one experiment headless,
/// with a progress line on stderr, and writes DIR/metrics.jsonl, DIR/summary.json, DIR/model.qsc and
/// (when it trained one) DIR/teacher.safetensors. Ctrl+C stops after the current step; --resume
/// continues from the last epoch's checkpoint. <c>datasetOptions</c> sets what a spec does not
/// (generated set sizes, text sequence length); the defaults when null.
/// </summary>
public sealed class TrainCommand(DatasetLoadOptions? datasetOptions = null) : ICommand
{
    public const string Usage = "quantstudio train --spec S.json --out DIR [--resume] [--data DIR]";

    public string Name => "train";
    public string Summary => "run an experiment spec: train, quantize, write model.qsc and summary.json";

    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stdout, stderr));

    private int Execute(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = CommandArguments.Parse(args, ["--spec", "--out", "--data"], ["--resume"]);
        if (a.Positionals.Count != 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var specPath = a.Required("--spec");
        var outDir = a.Required("--out");
        var resume = a.Has("--resume");
        if (!File.Exists(specPath))
            throw new InputException($"no such spec file '{specPath}'");

        ExperimentSpec spec;
        try
        {
            spec = SpecJson.Parse(File.ReadAllText(specPath));
        }
        catch (SpecValidationException e)
        {
            stderr.WriteLine($"quantstudio train: '{specPath}' is not a valid experiment spec:");
            foreach (var error in e.Errors)
                stderr.WriteLine($"  {error}");
            return CommandRunner.ExitInputError;
        }

        Directory.CreateDirectory(outDir);
        var metrics = Path.Combine(outDir, ExperimentRunner.MetricsFileName);
        var progress = new ProgressLine(stderr);
        var events = new RunEventStream([progress], lastSeq: resume ? JsonlEventSink.LastSeq(metrics) : 0);
        var runner = new ExperimentRunner { DataOptions = datasetOptions };
        var dataDir = a.Optional("--data") ?? "data";

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            runner.Run(new RunContext(spec, outDir, events, resume, dataDir), cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            progress.Finish();
            stderr.WriteLine($"quantstudio train: cancelled; continue with --resume --out {outDir}");
            return 130;
        }
        finally
        {
            // Any error line the command prints starts on a line of its own.
            progress.Finish();
            Console.CancelKeyPress -= onCancel;
        }
        progress.Finish();
        stdout.WriteLine(File.ReadAllText(Path.Combine(outDir, ExperimentRunner.SummaryFileName)));
        return 0;
    }
}

/// <summary>
/// One status line on stderr, redrawn from the event stream: phase, epoch, a bar with the step of the epoch and the
/// epoch's length, loss, last validation accuracy (or perplexity) and samples per second. Epoch results get a line of
/// their own. A failure is left to the command's error line, so it is printed once.
/// </summary>
public sealed class ProgressLine(TextWriter stderr) : IRunEventSink
{
    private const int BarWidth = 24;
    private string phase = "";
    private string lastMetric = "";
    private bool lineOpen;

    public void Emit(RunEvent e)
    {
        switch (e)
        {
            case RunStarted s:
                WriteLine($"{s.Method}: {s.Student}{(s.Teacher.Length > 0 ? $" from {s.Teacher}" : "")} on {s.Dataset}, {s.Precision}, {s.Threads} threads");
                break;
            case RunResumed r:
                WriteLine(r.Stage.Length == 0
                    ? $"attempt {r.Attempt}: no checkpoint yet, starting from the beginning"
                    : $"attempt {r.Attempt}: resuming the {r.Stage} at phase {r.Phase + 1}, epoch {r.Epoch + 1} (after step {r.Step})");
                break;
            case PhaseStarted p:
                phase = p.Name;
                // A new phase has its own model, batches and step count: the previous phase's figure does not apply.
                lastMetric = "";
                // Numbered within its stage (a teacher trained first has a trainer of its own), so a resumed run keeps the numbers.
                var of = p.PhaseCount > 0 ? $"/{p.PhaseCount}" : "";
                WriteLine($"phase {p.Index + 1}{of}: {p.Name} ({Count(p.Epochs, "epoch")})");
                break;
            case StepMetrics m:
                var bar = m.EpochSteps > 0
                    ? new string('#', (int)(BarWidth * Math.Min(1, (double)m.EpochStep / m.EpochSteps))).PadRight(BarWidth, '.')
                    : "";
                var position = m.EpochSteps > 0 ? $"{m.EpochStep}/{m.EpochSteps}" : $"step {m.Step}";
                Redraw($"{phase} epoch {m.Epoch} [{bar}] {position} loss {m.Loss:F4}{Figure()} {m.SamplesPerSecond:F0} samples/s");
                break;
            case EpochMetrics m:
                lastMetric = m.ValAccuracy is { } acc ? $"val acc {acc:P1}" : m.ValPerplexity is { } ppl ? $"val ppl {ppl:F2}" : "";
                WriteLine($"{m.Phase} epoch {m.Epoch}: train loss {m.TrainLoss:F4}, val loss {m.ValLoss:F4}{Figure()} ({m.EpochSeconds:F1} s)");
                break;
            case LogMessage l:
                WriteLine($"{l.Level}: {l.Message}");
                break;
            case RunFailed:
                Finish();
                break;
        }
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private string Figure() => lastMetric.Length > 0 ? ", " + lastMetric : "";

    /// <summary>Ends the status line, so what follows starts on a line of its own.</summary>
    public void Finish()
    {
        if (lineOpen)
            stderr.WriteLine();
        lineOpen = false;
    }

    private void Redraw(string text)
    {
        stderr.Write("\r" + text.PadRight(100));
        lineOpen = true;
    }

    private void WriteLine(string text)
    {
        Finish();
        stderr.WriteLine(text);
    }
}
