using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A test double for the trainer: emits a known sequence of events, optionally waiting on a gate before
/// each step so a test controls the pace, and writes a small model.qsc into the run folder. Like the trainer, it appends every
/// event it emits to metrics.jsonl in the run folder (starting the file over unless resuming).
/// </summary>
public sealed class ScriptedRunner : IExperimentRunner
{
    public int Steps { get; set; } = 6;
    public TimeSpan StepDelay { get; set; } = TimeSpan.Zero;

    /// <summary>When set, each step waits for one release of this semaphore.</summary>
    public SemaphoreSlim? Gate { get; set; }

    /// <summary>How long a cancelled run takes to stop (a trainer finishes its step), before it emits RunCancelled.</summary>
    public TimeSpan CancelDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long a cancelled run takes to return after its terminal event is stored (a trainer closing its files).</summary>
    public TimeSpan ReturnDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Set to make the run fail after this many steps.</summary>
    public int? FailAfterSteps { get; set; }

    public List<RunContext> Contexts { get; } = [];

    /// <summary>Completes when a run has started emitting (after RunStarted).</summary>
    public TaskCompletionSource Started { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResetStarted() => Started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The events one uninterrupted run emits, before numbering: 2 + Steps + 5.</summary>
    public int EventCount => 2 + Steps + 5;

    public async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        lock (Contexts)
            Contexts.Add(context);
        Directory.CreateDirectory(context.OutputDirectory);
        var metricsPath = Path.Combine(context.OutputDirectory, ExperimentRunner.MetricsFileName);
        if (!context.Resume && File.Exists(metricsPath))
            File.Delete(metricsPath);
        var ev = new StreamAndMetricsFile(context.Events, new JsonlEventSink(metricsPath));
        var spec = context.Spec;
        try
        {
            ev.Emit(new RunStarted(spec.Method, spec.Dataset.Name, spec.Teacher?.Arch ?? "", spec.Student.Arch,
                spec.Quantization.Bits, 1000, 100, "fp32", 2, SpecJson.Write(spec)));
            Started.TrySetResult();
            ev.Emit(new PhaseStarted("train", 0, 1));
            for (var i = 1; i <= Steps; i++)
            {
                if (Gate is not null)
                    await Gate.WaitAsync(cancellationToken);
                if (StepDelay > TimeSpan.Zero)
                    await Task.Delay(StepDelay, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
                if (FailAfterSteps == i - 1)
                    throw new InvalidOperationException("scripted failure");
                ev.Emit(new StepMetrics("train", 1, i, 2.0 / i, new Dictionary<string, double> { ["ce"] = 1.0 / i }, 0.05, 1000));
            }
            ev.Emit(new EpochMetrics("train", 1, 1.0, 0.5, 1.1, 0.75, null, 0.05, 1.5));
            ev.Emit(new LayerSnapshot("train", 1, "conv1.weight", [8, 3, 3, 3], 4, 256,
                [-1, -0.5, 0, 0.5, 1], [10, 40, 40, 10], [-0.75, -0.25, 0.25, 0.75], new ScaleStats(0.1, 0.2, 0.3)));
            ev.Emit(new CompressionReport(4000, 600, 500, 6.67, 4.1,
                [new LayerCompression("conv1.weight", 216, 4, 256, 864, 116, 100, 3.7)]));
            Directory.CreateDirectory(context.OutputDirectory);
            var model = Path.Combine(context.OutputDirectory, "model.qsc");
            await File.WriteAllBytesAsync(model, [1, 2, 3, 4, 5], CancellationToken.None);
            ev.Emit(new CheckpointSaved("model", "model.qsc", 1, 5));
            ev.Emit(new RunFinished(new Dictionary<string, double> { ["student_accuracy"] = 0.8, ["packed_bytes"] = 600, ["compression_ratio"] = 6.67 }));
        }
        catch (OperationCanceledException)
        {
            if (CancelDelay > TimeSpan.Zero)
                await Task.Delay(CancelDelay, CancellationToken.None);
            ev.Emit(new RunCancelled("cancelled"));
            if (ReturnDelay > TimeSpan.Zero)
                await Task.Delay(ReturnDelay, CancellationToken.None);
            throw;
        }
        catch (Exception ex)
        {
            ev.Emit(new RunFailed(ex.Message));
            throw;
        }
    }

    private sealed class StreamAndMetricsFile(RunEventStream stream, JsonlEventSink jsonl)
    {
        public void Emit(RunEvent e) => jsonl.Emit(stream.Emit(e));
    }
}
