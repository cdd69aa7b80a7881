using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Emits a plausible event stream without training anything: decreasing loss, rising accuracy, per-layer histograms
/// with quantization levels, a compression report and a small model file. For developing the pages and for browser
/// tests while no trainer is registered; enabled with <c>QuantStudio:SimulatedRunner = true</c>, never by default.
/// Its pace is <c>SimulatedStepMilliseconds</c> per step and <c>SimulatedStepsPerEpoch</c> steps per epoch. A resumed run
/// starts over (there is no checkpoint to continue from); its events still continue the run's numbering. Like the trainer,
/// it appends every event it emits to metrics.jsonl in the run folder (and starts that file over unless resuming).
/// </summary>
public sealed class SimulatedExperimentRunner(TimeProvider time, IOptions<QuantStudioOptions> options) : IExperimentRunner
{
    private static readonly (string Name, long[] Shape)[] Layers =
        [("conv1.weight", [25, 3, 5, 5]), ("conv2.weight", [10, 25, 5, 5]), ("conv3.weight", [10, 10, 5, 5]), ("fc1.weight", [300, 320]), ("fc2.weight", [10, 300])];

    public async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var spec = context.Spec;
        var jsonl = MetricsFile(context);
        var ev = new StreamAndMetricsFile(context.Events, jsonl);
        var rng = new Random((int)spec.Seed);
        var bits = Methods.Quantizes(spec.Method) ? spec.Quantization.Bits : 32;
        try
        {
            ev.Emit(new RunStarted(spec.Method, spec.Dataset.Name, spec.Teacher?.Arch ?? "", spec.Student.Arch,
                Methods.Quantizes(spec.Method) ? bits : null, 5_300_000, 111_000, "fp32", 2, SpecJson.Write(spec)));
            ev.Emit(new LogMessage("info", context.Resume ? "simulated run resumed: it starts over, no model is trained" : "simulated run: no model is trained"));
            var phases = spec.Method == Methods.Qkd
                ? new[] { ("self-studying", spec.Qkd.SelfStudyingEpochs), ("co-studying", spec.Qkd.CoStudyingEpochs), ("tutoring", spec.Qkd.TutoringEpochs) }
                : [("train", Math.Max(1, spec.Optimizer.Epochs))];
            var stepsPerEpoch = Math.Max(1, options.Value.SimulatedStepsPerEpoch);
            var stepDelay = TimeSpan.FromMilliseconds(Math.Max(0, options.Value.SimulatedStepMilliseconds));
            long step = 0;
            var epochTotal = 0;
            for (var p = 0; p < phases.Length; p++)
            {
                var (phase, epochs) = phases[p];
                ev.Emit(new PhaseStarted(phase, p, epochs));
                for (var epoch = 1; epoch <= epochs; epoch++)
                {
                    epochTotal++;
                    for (var s = 0; s < stepsPerEpoch; s++)
                    {
                        if (stepDelay > TimeSpan.Zero)
                            await Task.Delay(stepDelay, time, cancellationToken);
                        else
                            cancellationToken.ThrowIfCancellationRequested();
                        step++;
                        var loss = 2.3 * Math.Exp(-step / 60.0) + 0.3 + 0.1 * rng.NextDouble();
                        var lr = spec.Optimizer.Lr * (0.5 + 0.5 * Math.Cos(Math.PI * step / (stepsPerEpoch * phases.Sum(x => x.Item2) + 1)));
                        ev.Emit(new StepMetrics(phase, epoch, step, loss, new Dictionary<string, double> { ["ce"] = loss * 0.3, ["kd"] = loss * 0.7 }, lr, 900 + rng.Next(200)));
                    }
                    var acc = Math.Min(0.95, 0.35 + 0.12 * epochTotal + 0.02 * rng.NextDouble());
                    ev.Emit(new EpochMetrics(phase, epoch, 2.3 * Math.Exp(-step / 60.0) + 0.35, acc + 0.02, 2.3 * Math.Exp(-step / 70.0) + 0.4, acc, null,
                        spec.Optimizer.Lr, 2.0));
                    foreach (var (name, shape) in Layers)
                        ev.Emit(Snapshot(phase, epoch, name, shape, bits, spec.Quantization.BucketSize, rng));
                }
            }
            var report = Report(bits, spec.Quantization.BucketSize);
            ev.Emit(report);
            Directory.CreateDirectory(context.OutputDirectory);
            var model = Path.Combine(context.OutputDirectory, "model.qsc");
            await File.WriteAllBytesAsync(model, new byte[report.PackedBytes], CancellationToken.None);
            ev.Emit(new CheckpointSaved("model", "model.qsc", epochTotal, report.PackedBytes));
            ev.Emit(new RunFinished(new Dictionary<string, double>
            {
                ["student_accuracy"] = Math.Min(0.95, 0.35 + 0.12 * epochTotal),
                ["packed_bytes"] = report.PackedBytes,
                ["compression_ratio"] = report.CompressionRatio,
            }));
        }
        catch (OperationCanceledException)
        {
            ev.Emit(new RunCancelled("cancelled"));
            throw;
        }
    }

    private static JsonlEventSink MetricsFile(RunContext context)
    {
        Directory.CreateDirectory(context.OutputDirectory);
        var path = Path.Combine(context.OutputDirectory, ExperimentRunner.MetricsFileName);
        if (!context.Resume && File.Exists(path))
            File.Delete(path);
        return new JsonlEventSink(path);
    }

    /// <summary>Numbers an event on the run's stream, then appends the numbered event to metrics.jsonl, as the trainer does.</summary>
    private sealed class StreamAndMetricsFile(RunEventStream stream, JsonlEventSink jsonl)
    {
        public void Emit(RunEvent e) => jsonl.Emit(stream.Emit(e));
    }

    private static LayerSnapshot Snapshot(string phase, int epoch, string name, long[] shape, int bits, int? bucket, Random rng)
    {
        const int bins = 40;
        var sigma = 0.05 + 0.02 * rng.NextDouble();
        var edges = Enumerable.Range(0, bins + 1).Select(i => -4 * sigma + 8 * sigma * i / bins).ToArray();
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var counts = Enumerable.Range(0, bins).Select(i =>
        {
            var x = (edges[i] + edges[i + 1]) / 2;
            return (long)(n * (8.0 / bins) / Math.Sqrt(2 * Math.PI) * Math.Exp(-x * x / (2 * sigma * sigma)));
        }).ToArray();
        var levelCount = bits >= 8 ? 16 : 1 << bits;
        var levels = Enumerable.Range(0, levelCount).Select(i => -3 * sigma + 6 * sigma * i / Math.Max(1, levelCount - 1)).ToArray();
        return new LayerSnapshot(phase, epoch, name, shape, bits, bucket, edges, counts, levels, new ScaleStats(sigma / 2, sigma, 2 * sigma));
    }

    private static CompressionReport Report(int bits, int? bucket)
    {
        var layers = Layers.Select(l =>
        {
            var n = l.Shape.Aggregate(1L, (a, b) => a * b);
            var buckets = bucket is { } b ? (n + b - 1) / b : 1;
            var packed = (n * bits + 7) / 8 + buckets * 8;
            return new LayerCompression(l.Name, n, bits, bucket, n * 4, packed, (long)(packed * 0.85), bits * 0.85);
        }).ToList();
        long fp32 = layers.Sum(l => l.Fp32Bytes), packedAll = layers.Sum(l => l.PackedBytes), huff = layers.Sum(l => l.HuffmanBytes);
        return new CompressionReport(fp32, packedAll, huff, fp32 / (double)packedAll, packedAll * 8.0 / layers.Sum(l => l.Elements), layers);
    }
}
