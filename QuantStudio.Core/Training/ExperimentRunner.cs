using System.Globalization;
using System.Diagnostics;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>
/// A whole run from a spec: load the data, load or train the teacher, build the student, run the
/// method on the shared trainer, then measure and write the results (model.qsc, summary.json,
/// teacher.safetensors when a teacher was trained; every event also goes to metrics.jsonl).
/// Runs on its own thread: libtorch's grad mode, autocast and dispose scopes are per thread.
/// </summary>
public sealed class ExperimentRunner(ICompressedModelWriter? writer = null) : IExperimentRunner
{
    private readonly ICompressedModelWriter writer = writer ?? new QscModelWriter();

    public const string TeacherFileName = "teacher.safetensors";
    public const string ModelFileName = "model.qsc";
    public const string SummaryFileName = "summary.json";
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>Emit step metrics this often (null: about 25 per epoch). Tests set 1 to stop at an exact step.</summary>
    public int? StepMetricsEvery { get; init; }

    /// <summary>libtorch's intra-op threads for the run (null: one per core). A worker sharing a machine with others sets fewer.</summary>
    public int? Threads { get; init; }

    /// <summary>Dataset loading settings besides the spec (generated set sizes, text sequence length); the folder comes from the context.</summary>
    public DatasetLoadOptions? DataOptions { get; init; }

    public Task RunAsync(RunContext context, CancellationToken cancellationToken) =>
        // Not passing the token here: a run cancelled before it starts must still report RunCancelled.
        Task.Factory.StartNew(() => Run(context, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public void Run(RunContext context, CancellationToken ct)
    {
        var dir = context.OutputDirectory;
        Directory.CreateDirectory(dir);
        var metricsPath = Path.Combine(dir, MetricsFileName);
        TrainingProgress? resumeFrom;
        try
        {
            // Decided before the folder is touched: a refused resume leaves a finished run as it was.
            resumeFrom = context.Resume ? ResumeCheck.Check(dir, context.Spec) : null;
            if (!context.Resume)
                StartOver(dir, context.Spec);
        }
        catch (Exception ex)
        {
            context.Events.Emit(new RunFailed(ex.Message));
            throw;
        }
        var attempt = context.Resume ? JsonlEventSink.Count(metricsPath, "run_started") + 1 : 1;
        var jsonl = new JsonlEventSink(metricsPath);
        void Emit(RunEvent e) => jsonl.Emit(context.Events.Emit(e));

        var disposables = new Stack<IDisposable>();
        try
        {
            var wall = Stopwatch.StartNew();
            torch.set_num_threads(Threads ?? Environment.ProcessorCount);
            var spec = context.Spec;
            ct.ThrowIfCancellationRequested();
            var data = LoadData(context, Emit, ct);
            var shape = data.Info.Kind == DatasetKind.CharText
                ? InputShape.Text(data.Info.VocabSize)
                : InputShape.Image(data.Info.Channels, data.Info.Height, data.Info.Width, data.Info.NumClasses);
            var channelsLast = spec.ChannelsLast && !shape.IsText;
            Tensor Prepare(Tensor x) => Trainer.PrepareInput(x, channelsLast);

            var teacherSpec = Methods.UsesTeacher(spec.Method) ? spec.Teacher : null;
            var teacher = teacherSpec is null ? null : Push(disposables, Build(teacherSpec.Arch, shape, teacherSpec.Width, 1, RunSeeds.ForModel(spec.Seed, "teacher"), channelsLast));
            var student = Push(disposables, Build(spec.Student.Arch, shape, spec.Student.Width, spec.Student.Depth, RunSeeds.ForModel(spec.Seed, "student"), channelsLast));
            var teacherStats = teacher is null ? null : ModelStats.Measure(teacher, shape);
            var studentStats = ModelStats.Measure(student, shape);
            // Before any phase seeds the generator: the probe's random inputs do not change the run.
            var precision = TrainingPrecision.Choose(spec.Precision, student, shape, spec.Optimizer.BatchSize, channelsLast);
            var bf16 = precision.Bf16;
            Emit(new RunStarted(spec.Method, spec.Dataset.Name, teacherSpec?.Arch ?? "", spec.Student.Arch,
                Methods.Quantizes(spec.Method) ? spec.Quantization.Bits : null, teacherStats?.Parameters ?? 0, studentStats.Parameters,
                precision.Name, torch.get_num_threads(), SpecJson.Write(spec)));
            if (context.Resume)
                Emit(new RunResumed(attempt, resumeFrom?.Stage ?? "", resumeFrom?.Phase ?? 0, resumeFrom?.Epoch ?? 0, resumeFrom?.Step ?? 0));
            if (spec.Teacher is { } unused && teacherSpec is null)
                Emit(new LogMessage("warning", $"teacher: method '{spec.Method}' does not learn from a teacher; the spec's teacher ({unused.Arch}) is ignored"));
            if (precision.Fp32StepMs is { } fp32Ms && precision.Bf16StepMs is { } bf16Ms)
                Emit(new LogMessage("info", string.Create(CultureInfo.InvariantCulture,
                    $"precision auto: a training step of the student took {fp32Ms:F1} ms in fp32 and {bf16Ms:F1} ms in bf16; using {precision.Name}")));
            if (data.Note is { } note)
                Emit(new LogMessage("info", $"dataset {spec.Dataset.Name}: {note}"));

            var checkpointPath = Path.Combine(dir, TrainingCheckpoint.FileName);
            TrainerOptions Options(string stage) => new()
            {
                Stage = stage, Seed = spec.Seed, BatchSize = spec.Optimizer.BatchSize, Bf16 = bf16, ChannelsLast = channelsLast,
                CheckpointPath = checkpointPath, Resume = context.Resume, StepMetricsEvery = StepMetricsEvery, CancellationToken = ct,
                SpecJson = SpecJson.Write(spec),
            };

            EvaluationResult? teacherEval = null;
            if (teacher is not null)
            {
                PrepareTeacher(teacher, teacherSpec!, spec, data, dir, Options("teacher"), context.Resume, Emit);
                teacherEval = ModelEvaluator.Evaluate(teacher, data, data.Test, spec.Optimizer.BatchSize, Prepare, ct);
            }

            var teacherLogits = teacher is null ? null : Push(disposables, new TeacherLogits(teacher, data, spec.Optimizer.BatchSize, bf16, Prepare));
            var method = Push(disposables, MethodFactory.Create(spec, student, teacherLogits));
            var result = new Trainer(data, Options("student"), Emit).Run(method);

            var encodings = method.Finish();
            var studentEval = ModelEvaluator.Evaluate(method.Student, data, data.Test, spec.Optimizer.BatchSize, Prepare, ct);
            var views = method.QuantizedWeights();
            foreach (var v in views)
                Emit(SnapshotReports.Snapshot("final", method.Phases.Sum(p => p.Epochs), v));
            var compression = SnapshotReports.Compression(method.Student, views);
            Emit(compression);
            var warnings = CompressionNotices.For(spec, method.Student, compression);
            foreach (var w in warnings)
                Emit(new LogMessage("warning", w));

            var description = new CompressedModelDescription(spec.Student.Arch, spec.Student.Width, spec.Student.Depth, shape,
                spec.Dataset.Name, data.Info.Normalization, spec.Quantization, spec.Method)
            {
                Seed = spec.Seed,
                ValidationSplit = spec.Dataset.ValidationSplit,
                Subset = spec.Dataset.Subset,
                Vocabulary = data.Info.Vocabulary,
                ActivationQuantizers = method.ActivationQuantizers(),
            };

            // The student as the compressed checkpoint rebuilds it: a plain network holding the dequantized
            // weights, with the activation quantizers the file stores.
            using var stored = Build(spec.Student.Arch, shape, spec.Student.Width, spec.Student.Depth, 0, channelsLast);
            LoadStoredWeights(stored, method);
            using var storedActivations = ActivationQuantizerHooks.Install(stored, description.ActivationQuantizers, spec.Student.Arch);
            var storedEval = ModelEvaluator.Evaluate(stored, data, data.Test, spec.Optimizer.BatchSize, Prepare, ct);

            CompressedModelFile file;
            // Saving checks the model against a zoo-built one, which draws from torch's global generator.
            lock (InitLock)
                file = writer.Write(Path.Combine(dir, ModelFileName), method.Student, description, encodings);
            // The run's epochs, not this attempt's: a resumed run trains only the epochs it had left.
            Emit(new CheckpointSaved("model", file.Path, method.Phases.Sum(p => p.Epochs), file.FileBytes));
            var onnx = OnnxRunReport.Measure(file.Path, dir, teacher, teacherSpec, shape, data, spec.Optimizer.BatchSize, InitLock,
                message => Emit(new LogMessage("warning", message)), ct);

            var summary = new RunSummary
            {
                Method = spec.Method,
                Dataset = spec.Dataset.Name,
                Bits = Methods.Quantizes(spec.Method) ? spec.Quantization.Bits : null,
                // Learned-step methods have one step per tensor: no buckets.
                BucketSize = Methods.UsesBuckets(spec.Method) ? spec.Quantization.BucketSize : null,
                TeacherAccuracy = teacherEval?.Accuracy,
                TeacherPerplexity = teacherEval?.Perplexity,
                StudentAccuracy = studentEval.Accuracy,
                StudentPerplexity = studentEval.Perplexity,
                StudentCheckpointAccuracy = storedEval.Accuracy,
                StudentCheckpointPerplexity = storedEval.Perplexity,
                Fp32Bytes = compression.Fp32Bytes,
                PackedBytes = compression.PackedBytes,
                HuffmanBytes = compression.HuffmanBytes,
                CompressionRatio = compression.CompressionRatio,
                QscBytes = file.FileBytes,
                StudentParams = studentStats.Parameters,
                TeacherParams = teacherStats?.Parameters ?? 0,
                StudentFlops = studentStats.Flops,
                TeacherFlops = teacherStats?.Flops ?? 0,
                Epochs = method.Phases.Sum(p => p.Epochs),
                WallSeconds = wall.Elapsed.TotalSeconds,
                TrainSamplesPerS = result.TrainSeconds > 0 ? result.TrainSamples / result.TrainSeconds : 0,
                Precision = precision.Name,
                PrecisionStepMs = precision.Fp32StepMs is { } f && precision.Bf16StepMs is { } b
                    ? new Dictionary<string, double> { ["fp32"] = f, ["bf16"] = b } : null,
                TeacherLogitCache = teacherLogits?.UsesCache ?? false,
                TeacherLatencyMs = teacher is null ? null : MeasureLatency(teacher, shape, channelsLast),
                StudentLatencyMs = MeasureLatency(stored, shape, channelsLast),
                Warnings = warnings,
                OnnxAccuracy = onnx?.Accuracy,
                OnnxPerplexity = onnx?.Perplexity,
                OnnxBytes = onnx?.Bytes,
                TeacherOnnxLatencyMs = onnx?.TeacherLatencyMs,
                StudentOnnxLatencyMs = onnx?.StudentLatencyMs,
            };
            var summaryPath = Path.Combine(dir, SummaryFileName);
            File.WriteAllText(summaryPath + ".tmp", summary.ToJson());
            File.Move(summaryPath + ".tmp", summaryPath, overwrite: true);
            Emit(new RunFinished(summary.Numbers()));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Emit(new RunCancelled("cancelled; resume the run to continue from its last checkpoint"));
            throw;
        }
        catch (Exception ex)
        {
            Emit(new RunFailed(ex.Message));
            throw;
        }
        finally
        {
            while (disposables.Count > 0)
                disposables.Pop().Dispose();
        }
    }

    private static T Push<T>(Stack<IDisposable> stack, T item) where T : IDisposable
    {
        stack.Push(item);
        return item;
    }

    /// <summary>Every file a run writes into its folder.</summary>
    public static readonly IReadOnlyList<string> RunFileNames =
        [MetricsFileName, TrainingCheckpoint.FileName, SummaryFileName, ModelFileName, TeacherFileName, OnnxRunReport.FileName, "model-float.onnx"];

    /// <summary>
    /// A fresh run in a used folder must not resume by accident, append to old metrics, or leave an earlier run's model
    /// or teacher beside its own: every file a run writes goes first (with any temporary file a crash left).
    /// </summary>
    private static void StartOver(string dir, ExperimentSpec spec)
    {
        var ownTeacher = Path.GetFullPath(Path.Combine(dir, TeacherFileName));
        if (spec.Teacher?.Checkpoint is { } given && Path.GetFullPath(given) == ownTeacher)
            throw new RunInputException(
                $"teacher.checkpoint: '{given}' is the teacher file of the output folder, which a new run there starts by clearing; copy it elsewhere or write the run to another folder");
        foreach (var name in RunFileNames)
        {
            foreach (var path in new[] { Path.Combine(dir, name), Path.Combine(dir, name + ".tmp") })
                if (File.Exists(path))
                    File.Delete(path);
        }
    }

    private LoadedDataset LoadData(RunContext context, Action<RunEvent> emit, CancellationToken ct)
    {
        var lastReported = new Dictionary<string, int>();
        var progress = new SynchronousProgress<DownloadProgress>(p =>
        {
            // One log line per tenth of a file.
            var tenth = p.Completed ? 10 : p.TotalBytes is > 0 ? (int)(10 * p.BytesReceived / p.TotalBytes.Value) : 0;
            if (lastReported.TryGetValue(p.FileName, out var last) && last >= tenth)
                return;
            lastReported[p.FileName] = tenth;
            emit(new LogMessage("info", p.Completed
                ? $"downloaded {p.FileName} ({p.BytesReceived:N0} bytes)"
                : $"downloading {p.FileName}: {p.BytesReceived:N0}{(p.TotalBytes is { } t ? $" of {t:N0}" : "")} bytes"));
        });
        var options = (DataOptions ?? new DatasetLoadOptions()) with
        {
            DatasetsDirectory = Path.Combine(context.DataDirectory, "datasets"),
            DownloadProgress = progress,
        };
        return DatasetRegistry.Load(context.Spec.Dataset, context.Spec.Seed, options, ct);
    }

    // libtorch's generator is process-wide: runs started side by side must not interleave their initializations.
    private static readonly Lock InitLock = new();

    private static Module<Tensor, Tensor> Build(string arch, InputShape shape, double width, double depth, long seed, bool channelsLast)
    {
        Module<Tensor, Tensor> model;
        lock (InitLock)
        {
            torch.manual_seed(seed);
            model = ModelZoo.Create(arch, shape, width, depth);
        }
        // channels_last reaches the convolutions through their inputs (Trainer.PrepareInput): oneDNN keeps the
        // layout from there, so the weights stay as they are.
        return model;
    }

    /// <summary>Loads the teacher's checkpoint, or the one this run trained before, or trains it now and saves it.</summary>
    private static void PrepareTeacher(Module<Tensor, Tensor> teacher, TeacherSpec teacherSpec, ExperimentSpec spec, LoadedDataset data,
        string dir, TrainerOptions options, bool resume, Action<RunEvent> emit)
    {
        if (teacherSpec.Checkpoint is { } given)
        {
            if (!File.Exists(given))
                throw new FileNotFoundException($"teacher.checkpoint: no such file '{given}'", given);
            LoadWeights(teacher, given, "teacher.checkpoint");
            emit(new LogMessage("info", $"teacher loaded from {given}"));
            return;
        }
        var saved = Path.Combine(dir, TeacherFileName);
        if (resume && File.Exists(saved) && !CheckpointIsOf(options.CheckpointPath!, "teacher"))
        {
            LoadWeights(teacher, saved, TeacherFileName);
            emit(new LogMessage("info", $"teacher loaded from {saved} (trained earlier in this run)"));
            return;
        }
        using (var method = new FullPrecisionMethod(teacher, teacherSpec.Train ?? spec.Optimizer, "teacher"))
            new Trainer(data, options, emit).Run(method);
        using (var state = teacher.StateDictOf())
            Safetensors.Save(saved, state, new Dictionary<string, string> { ["arch"] = teacherSpec.Arch, ["width"] = teacherSpec.Width.ToString("R", System.Globalization.CultureInfo.InvariantCulture) });
        emit(new CheckpointSaved("teacher", saved, (teacherSpec.Train ?? spec.Optimizer).Epochs, new FileInfo(saved).Length));
    }

    private static bool CheckpointIsOf(string path, string stage)
    {
        if (!File.Exists(path))
            return false;
        var (progress, content) = TrainingCheckpoint.Read(path);
        content.Dispose();
        return progress.Stage == stage;
    }

    private static void LoadWeights(Module model, string path, string what)
    {
        SafetensorsContent content;
        try
        {
            content = Safetensors.Read(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw new RunInputException($"{what}: '{path}' is not a valid safetensors file (truncated or damaged?): {e.Message}", e);
        }
        using (content)
        {
            try
            {
                model.LoadStateDictChecked(content.Tensors);
            }
            catch (StateDictMismatchException e)
            {
                throw new RunInputException($"{what}: '{path}' does not fit the model: {e.Message}", e);
            }
        }
    }

    /// <summary>Copies the student's state with every quantized weight replaced by its dequantized value.</summary>
    private static void LoadStoredWeights(Module target, TrainingMethod method)
    {
        using var state = method.Student.StateDictOf();
        var dequantized = method.DequantizedWeights();
        try
        {
            var merged = state.ToDictionary(kv => kv.Key, kv => dequantized.TryGetValue(kv.Key, out var d) ? d : kv.Value);
            target.LoadStateDictChecked(merged);
        }
        finally
        {
            foreach (var d in dequantized.Values)
                d.Dispose();
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Forward latency at batch 1 and 64, with inputs in the layout the model was trained in.</summary>
    private static Latency MeasureLatency(Module<Tensor, Tensor> model, InputShape shape, bool channelsLast)
    {
        var r = LatencyProbe.Measure(model, shape, channelsLast: channelsLast);
        return new Latency(r.Batch1Ms, r.Batch64Ms);
    }
}
