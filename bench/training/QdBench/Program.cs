// Our side of bench/training: quantized distillation of the paper's CIFAR-10 teacher into the
// 75-50-50-25 student, run through the experiment runner exactly as `quantstudio train` runs a
// spec, and timed from the trainer's own events (EpochMetrics.EpochSeconds: the training loop of
// each epoch, data loading and the teacher's logits included, evaluation and checkpoints not).
//
// usage: QdBench --data DIR [--epochs 10] [--batch 64] [--threads 2] [--precision fp32|bf16|auto]
//                [--channels-last | --no-channels-last] [--augment] [--seed 1] [--out DIR]
//                [--teacher-checkpoint F.safetensors] [--no-retain-memory] [--versus-full-precision]
//        QdBench --spec S.json --out DIR     (runs any spec; prints the summary's accuracies)
//
// Prints `epoch=<k> seconds=<s> samples_per_s=<r>` per epoch, then `samples_per_s=<r>` over all
// epochs (the first included: it pays for the teacher-logit table and the warm-up) and
// `samples_per_s_after_first=<r>`; details (threads, precision, BLAS) go to stderr.
//
// --versus-full-precision then trains the same student in full precision (method full_precision: no
// teacher, no quantizer) with the same data, epochs, batch, precision and layout, in the same process,
// and prints `fp_epoch=<k> seconds=<s>` per epoch and `qd_over_fp_epoch_time=<r>`: the mean quantized-
// distillation epoch over the mean full-precision epoch, the first epoch of each left out (it holds the
// teacher-logit table and the warm-up). Without --augment the quantized distillation reuses the teacher's
// logits from its first epoch, so the ratio is what the quantizer and the distillation loss cost.
//
// Like `quantstudio train`, it first calls NativeMemory.RetainFreedMemory() (glibc keeps freed
// activations instead of page-faulting them in again every step; see bench/README.md, engine/);
// --no-retain-memory leaves the C library's defaults.
using System.Globalization;
using System.Text.Json;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

NativeEnvironment.Initialize();
var inv = CultureInfo.InvariantCulture;
var options = Options.Parse(args);
if (options is null)
    return 2;

ExperimentSpec spec;
if (options.SpecPath is { } specPath)
{
    spec = SpecJson.Parse(File.ReadAllText(specPath));
}
else
{
    // The teacher's weights do not change the work: it is the architecture at its seeded random
    // initialization (a teacher "trained" for zero epochs) unless a checkpoint is given.
    var optimizer = new OptimizerSpec
    {
        Name = "sgd", Lr = 0.05, Momentum = 0.9, Nesterov = true, WeightDecay = 5e-4, Schedule = "cosine",
        Epochs = options.Epochs, BatchSize = options.Batch,
    };
    spec = new ExperimentSpec
    {
        Name = "bench/training quantized distillation",
        Seed = options.Seed,
        // validation_split 0: all N examples train; validation uses the (small) test file.
        Dataset = new DatasetSpec { Name = "cifar10", Root = Path.GetFullPath(options.Data!), ValidationSplit = 0, Augment = options.Augment },
        Teacher = new TeacherSpec
        {
            Arch = "cifar-teacher",
            Checkpoint = options.TeacherCheckpoint is null ? null : Path.GetFullPath(options.TeacherCheckpoint),
            Train = options.TeacherCheckpoint is null ? optimizer with { Epochs = 0 } : null,
        },
        Student = new StudentSpec { Arch = "cifar-student-1" },
        Method = Methods.QuantizedDistillation,
        Quantization = new QuantizationSpec { Bits = 4, BucketSize = 256, Scheme = "uniform", Rounding = "deterministic", QuantizeFirstLast = false },
        Distillation = new DistillationSpec { Temperature = 2.0, Alpha = 0.7 },
        Optimizer = optimizer,
        Precision = options.Precision,
        ChannelsLast = options.ChannelsLast,
    };
}
var errors = SpecValidator.Validate(spec);
if (errors.Count > 0)
{
    foreach (var e in errors)
        Console.Error.WriteLine(e);
    return 2;
}

if (Environment.ProcessorCount != options.Threads)
{
    // The runner sizes libtorch's pool from the processor count the runtime reports.
    Console.Error.WriteLine($"--threads {options.Threads} needs DOTNET_PROCESSOR_COUNT={options.Threads} (the runtime reports {Environment.ProcessorCount} processors)");
    return 2;
}

var retained = options.RetainMemory && NativeMemory.RetainFreedMemory();

var trainCount = options.Data is null ? 0 : TrainExamples(options.Data);
var (all, logitCache) = await RunAsync(spec, options.Out, new ConsoleEpochSink(trainCount, "quantized_distillation", "epoch"));
if (all is null)
    return 1;
var started = all.OfType<RunStarted>().Single();
var finished = all.OfType<RunFinished>().Single();
var phase = spec.Method == Methods.QuantizedDistillation ? "quantized_distillation" : null;
var epochs = all.OfType<EpochMetrics>().Where(e => phase is null || e.Phase == phase).ToList();
double Get(string key) => finished.Summary.TryGetValue(key, out var v) ? v : double.NaN;

if (options.SpecPath is null)
{
    var seconds = epochs.Sum(e => e.EpochSeconds);
    var later = epochs.Skip(1).ToList();
    Console.WriteLine($"samples_per_s={(trainCount * epochs.Count / seconds).ToString("F1", inv)}");
    if (later.Count > 0)
        Console.WriteLine($"samples_per_s_after_first={(trainCount * later.Count / later.Sum(e => e.EpochSeconds)).ToString("F1", inv)}");
}
Console.WriteLine($"test_accuracy={Get("student_accuracy").ToString("F4", inv)}");

if (options.VersusFullPrecision && options.SpecPath is null)
{
    // The same student, data, epochs, batch, precision and layout, trained in full precision.
    var fpSpec = spec with { Name = "bench/training full precision", Method = Methods.FullPrecision, Teacher = null };
    var (fpEvents, _) = await RunAsync(fpSpec, options.Out is null ? null : Path.Combine(options.Out, "full_precision"),
        new ConsoleEpochSink(trainCount, "full_precision", "fp_epoch"));
    if (fpEvents is null)
        return 1;
    var fpEpochs = fpEvents.OfType<EpochMetrics>().Where(e => e.Phase == "full_precision").ToList();
    // Mean epoch time with the first epoch left out (teacher-logit table, warm-up), or the only one.
    static double MeanLater(List<EpochMetrics> e) => (e.Count > 1 ? e.Skip(1) : e).Average(m => m.EpochSeconds);
    var qdMean = MeanLater(epochs);
    var fpMean = MeanLater(fpEpochs);
    Console.WriteLine($"fp_samples_per_s={(trainCount * fpEpochs.Count / fpEpochs.Sum(e => e.EpochSeconds)).ToString("F1", inv)}");
    Console.WriteLine($"qd_over_fp_epoch_time={(qdMean / fpMean).ToString("F2", inv)} (mean epoch after the first: " +
        $"quantized distillation {qdMean.ToString("F3", inv)} s, full precision {fpMean.ToString("F3", inv)} s)");
}
Console.Error.WriteLine($"libtorch {torch.__version__}, intra-op threads {started.Threads}, precision {started.Precision}, channels_last {spec.ChannelsLast}, " +
    $"augment {spec.Dataset.Augment}, retain_freed_memory {retained}, teacher_logit_cache {logitCache ?? "n/a"}, train_samples_per_s (runner) {Get("train_samples_per_s").ToString("F1", inv)}, wall {Get("wall_seconds").ToString("F1", inv)} s");
Console.Error.WriteLine("blas: " + LoadedBlas());
return 0;

// Runs a spec through the experiment runner as `quantstudio train` does (model.qsc is written too, after
// the timed epochs); returns its events and the summary's teacher-logit cache note, or null events when it failed.
static async Task<(IReadOnlyList<RunEvent>? Events, string? LogitCache)> RunAsync(ExperimentSpec spec, string? outDir, IRunEventSink console)
{
    var output = outDir ?? Path.Combine(Path.GetTempPath(), $"qdbench-{Environment.ProcessId}-{spec.Method}");
    var ownsOutput = outDir is null;
    Directory.CreateDirectory(output);
    var events = new ListEventSink();
    var stream = new RunEventStream([events, console]);
    try
    {
        var runner = new ExperimentRunner();
        await runner.RunAsync(new RunContext(spec, output, stream, Resume: false, DataDirectory: output), CancellationToken.None);
        string? logitCache = null;
        var summaryPath = Path.Combine(output, "summary.json");
        if (File.Exists(summaryPath))
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(summaryPath));
            if (summary.RootElement.TryGetProperty("teacher_logit_cache", out var cache))
                logitCache = cache.ToString();
        }
        return (events.Events, logitCache);
    }
    catch (Exception ex) when (ex is not OperationCanceledException)
    {
        Console.Error.WriteLine($"the run failed: {ex.Message}");
        return (null, null);
    }
    finally
    {
        if (ownsOutput)
            TryDelete(output);
    }
}

static long TrainExamples(string root)
{
    var folder = Path.Combine(root, "cifar-10-batches-bin");
    if (!Directory.Exists(folder))
        folder = root;
    return Enumerable.Range(1, 5).Sum(i => new FileInfo(Path.Combine(folder, $"data_batch_{i}.bin")).Length / 3073);
}

// The BLAS shared objects mapped into this process. TorchSharp's libtorch carries its own GEMM linked in
// (no libblas.so.3), so a mapped OpenBLAS here is only the run script's preload.
static string LoadedBlas()
{
    var mapped = File.ReadLines("/proc/self/maps")
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(f => f.Length >= 6 && f[5].Contains("blas", StringComparison.OrdinalIgnoreCase))
        .Select(f => f[5])
        .Distinct()
        .ToList();
    return (mapped.Count == 0 ? "none mapped" : string.Join(", ", mapped)) + " (libtorch's GEMM is its own, linked into libtorch_cpu.so)";
}

static void TryDelete(string dir)
{
    try
    {
        Directory.Delete(dir, recursive: true);
    }
    catch (IOException)
    {
    }
}

/// <summary>
/// Prints each training epoch as it ends. In the benchmark (<paramref name="trainCount"/> &gt; 0) only
/// the student's epochs (phase <paramref name="phase"/>) count, printed as <c>&lt;label&gt;=k</c>; the
/// zero-epoch teacher phase prints nothing anyway.
/// </summary>
sealed class ConsoleEpochSink(long trainCount, string phase, string label) : IRunEventSink
{
    public void Emit(RunEvent e)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (e)
        {
            case EpochMetrics m when trainCount > 0:
                if (m.Phase != phase)
                    return;
                Console.WriteLine($"{label}={m.Epoch} seconds={m.EpochSeconds.ToString("F3", inv)} " +
                    $"samples_per_s={(trainCount / m.EpochSeconds).ToString("F1", inv)} val_accuracy={(m.ValAccuracy ?? double.NaN).ToString("F4", inv)}");
                break;
            case EpochMetrics m:
                Console.WriteLine($"phase={m.Phase} epoch={m.Epoch} seconds={m.EpochSeconds.ToString("F3", inv)} val_accuracy={(m.ValAccuracy ?? double.NaN).ToString("F4", inv)}");
                break;
            case LogMessage { Level: "warning" or "error" } log:
                Console.Error.WriteLine($"{log.Level}: {log.Message}");
                break;
            case RunFailed f:
                Console.Error.WriteLine($"run failed: {f.Error}");
                break;
        }
    }
}

sealed record Options
{
    public string? Data { get; init; }
    public string? SpecPath { get; init; }
    public string? Out { get; init; }
    public string? TeacherCheckpoint { get; init; }
    public int Epochs { get; init; } = 10;
    public int Batch { get; init; } = 64;
    public int Threads { get; init; } = 2;
    public string Precision { get; init; } = "fp32";
    public bool ChannelsLast { get; init; }
    public bool Augment { get; init; }
    public long Seed { get; init; } = 1;
    public bool RetainMemory { get; init; } = true;
    public bool VersusFullPrecision { get; init; }

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                o = args[i] switch
                {
                    "--data" => o with { Data = Value() },
                    "--spec" => o with { SpecPath = Value() },
                    "--out" => o with { Out = Value() },
                    "--teacher-checkpoint" => o with { TeacherCheckpoint = Value() },
                    "--epochs" => o with { Epochs = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--threads" => o with { Threads = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--seed" => o with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--precision" => o with { Precision = Value() },
                    "--channels-last" => o with { ChannelsLast = true },
                    "--no-channels-last" => o with { ChannelsLast = false },
                    "--augment" => o with { Augment = true },
                    "--no-retain-memory" => o with { RetainMemory = false },
                    "--versus-full-precision" => o with { VersusFullPrecision = true },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            if (o.Data is null == (o.SpecPath is null))
                throw new ArgumentException("give --data DIR (the benchmark) or --spec S.json (any spec)");
            if (o.SpecPath is not null && o.Out is null)
                throw new ArgumentException("--spec needs --out DIR");
            if (o.Threads < 1 || o.Batch < 1 || o.Epochs < 1)
                throw new ArgumentException("--threads, --batch and --epochs must be at least 1");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine("usage: QdBench --data DIR [--epochs 10] [--batch 64] [--threads 2] [--precision fp32|bf16|auto] " +
                "[--channels-last|--no-channels-last] [--augment] [--seed 1] [--out DIR] [--teacher-checkpoint F] [--no-retain-memory] [--versus-full-precision]\n" +
                "       QdBench --spec S.json --out DIR");
            return null;
        }
        return o;
    }
}
