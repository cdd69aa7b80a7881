using System.Diagnostics;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using QuantStudio.Core.Training.Optim;

namespace QuantStudio.Core.Training;

public sealed record TrainerOptions
{
    /// <summary><c>teacher</c> or <c>student</c>: a checkpoint resumes only the stage that wrote it.</summary>
    public required string Stage { get; init; }
    public required long Seed { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>Run training steps under bf16 autocast (weights and their updates stay fp32).</summary>
    public bool Bf16 { get; init; }
    public bool ChannelsLast { get; init; }
    /// <summary>Where the per-epoch checkpoint goes; null saves none.</summary>
    public string? CheckpointPath { get; init; }
    public bool Resume { get; init; }
    /// <summary>The run's spec as JSON, recorded in each checkpoint so that a resume can check it continues the same run.</summary>
    public string? SpecJson { get; init; }
    /// <summary>Emit <see cref="StepMetrics"/> every this many steps (and at each epoch's last step); null: about 25 per epoch.</summary>
    public int? StepMetricsEvery { get; init; }
    public CancellationToken CancellationToken { get; init; }
}

public sealed record TrainerResult(EvaluationResult? LastValidation, long TrainSamples, double TrainSeconds, int Epochs, bool Resumed);

/// <summary>
/// The loop every method shares. For each phase of the method: build each trainee's optimizer and
/// schedule, then per epoch reseed, run the steps (one dispose scope each: zero grads, loss under
/// autocast, backward, update), evaluate on the validation split in fp32, report layer snapshots and
/// sizes, and save a checkpoint. A resumed run restores everything and continues at the saved epoch.
/// </summary>
public sealed class Trainer
{
    private readonly LoadedDataset data;
    private readonly TrainerOptions options;
    private readonly Action<RunEvent> emit;
    private readonly BatchLoader loader;

    public Trainer(LoadedDataset data, TrainerOptions options, Action<RunEvent> emit)
    {
        this.data = data;
        this.options = options;
        this.emit = emit;
        loader = data.CreateTrainLoader(options.BatchSize);
    }

    public int StepsPerEpoch => loader.BatchesPerEpoch;

    /// <summary>Images go channels_last when asked (oneDNN's fast layout); token ids pass through.</summary>
    public Tensor PrepareInput(Tensor input) => PrepareInput(input, options.ChannelsLast);

    public static Tensor PrepareInput(Tensor input, bool channelsLast) =>
        channelsLast && input.dim() == 4 ? input.ToChannelsLast() : input.alias();

    public TrainerResult Run(TrainingMethod method)
    {
        var ct = options.CancellationToken;
        var phases = method.Phases;
        var progress = new TrainingProgress(options.Stage, method.Name, 0, 0, 0, 0, 0);
        SafetensorsContent? restored = null;
        EvaluationResult? lastValidation = null;
        var epochsRun = 0;
        var resumed = false;
        try
        {
            restored = TryRestore(method, ref progress);
            resumed = restored is not null;
            var context = new PhaseContext(data, options.BatchSize, PrepareInput, options.Bf16, emit, ct);
            for (var phase = progress.Phase; phase < phases.Count; phase++)
            {
                var spec = phases[phase];
                var startEpoch = phase == progress.Phase ? progress.Epoch : 0;
                var resumedHere = restored is not null && startEpoch > 0;
                emit(new PhaseStarted(spec.Name, phase, spec.Epochs, phases.Count, StepsPerEpoch, options.Stage));
                torch.manual_seed(RunSeeds.ForPhaseStart(options.Seed, options.Stage, phase));
                method.BeginPhase(phase, context, resumedHere);

                var trainees = spec.Epochs > 0 ? BuildOptimizers(method.Trainees(phase), spec.Epochs) : [];
                try
                {
                    if (resumedHere)
                        RestoreOptimizers(trainees, restored!);
                    var epochBase = phases.Take(phase).Sum(p => p.Epochs);
                    for (var epoch = startEpoch; epoch < spec.Epochs; epoch++)
                    {
                        ct.ThrowIfCancellationRequested();
                        var globalEpoch = epochBase + epoch;
                        var (trainLoss, trainAccuracy, samples, seconds) = RunEpoch(method, phase, spec, globalEpoch, trainees, ref progress);
                        lastValidation = ModelEvaluator.Evaluate(method.Student, data, data.Validation, options.BatchSize, PrepareInput, ct);
                        emit(new EpochMetrics(spec.Name, globalEpoch + 1, trainLoss, trainAccuracy, lastValidation.Loss, lastValidation.Accuracy,
                            lastValidation.Perplexity, trainees.Count > 0 ? trainees[0].Optimizer.param_groups[0].lr : 0, seconds));
                        ReportQuantization(method, spec.Name, globalEpoch + 1);
                        epochsRun++;
                        var last = epoch == spec.Epochs - 1;
                        progress = progress with
                        {
                            Phase = last ? phase + 1 : phase,
                            Epoch = last ? 0 : epoch + 1,
                            TrainSamples = progress.TrainSamples + samples,
                            TrainSeconds = progress.TrainSeconds + seconds,
                        };
                        SaveCheckpoint(method, progress, last ? [] : trainees, globalEpoch + 1);
                    }
                }
                finally
                {
                    foreach (var t in trainees)
                        t.Optimizer.Dispose();
                }
                if (spec.Epochs == 0)
                    progress = progress with { Phase = phase + 1, Epoch = 0 };
                restored?.Dispose();
                restored = null;
            }
        }
        finally
        {
            restored?.Dispose();
        }
        return new TrainerResult(lastValidation, progress.TrainSamples, progress.TrainSeconds, epochsRun, resumed);
    }

    private sealed record ActiveTrainee(string Name, Optimizer Optimizer, LRScheduler Schedule);

    private List<ActiveTrainee> BuildOptimizers(IReadOnlyList<Trainee> trainees, int epochs)
    {
        var result = new List<ActiveTrainee>();
        foreach (var t in trainees)
        {
            var optimizer = OptimizerFactory.Create(t.Optimizer, t.Groups, t.LrScale);
            var window = t.Window ?? new ScheduleWindow(0, epochs);
            result.Add(new ActiveTrainee(t.Name, optimizer,
                OptimizerFactory.CreateSchedule(t.Optimizer, optimizer, window.TotalEpochs, StepsPerEpoch, window.FirstEpoch)));
        }
        return result;
    }

    private (double Loss, double? Accuracy, long Samples, double Seconds) RunEpoch(TrainingMethod method, int phase, TrainingPhase spec,
        int globalEpoch, List<ActiveTrainee> trainees, ref TrainingProgress progress)
    {
        var ct = options.CancellationToken;
        torch.manual_seed(RunSeeds.ForEpoch(options.Seed, options.Stage, phase, globalEpoch));
        method.SetTrainingMode(phase);
        var every = options.StepMetricsEvery ?? Math.Max(1, StepsPerEpoch / 25);
        var clock = Stopwatch.StartNew();
        var window = Stopwatch.StartNew();
        long windowSamples = 0, samples = 0, correct = 0, predictions = 0;
        double lossSum = 0;
        var step = progress.Step;
        var isText = data.Info.Kind == DatasetKind.CharText;

        using var batches = loader.Epoch(globalEpoch, 0, ct);
        foreach (var batch in batches)
        {
            using (batch)
            using (torch.NewDisposeScope())
            {
                ct.ThrowIfCancellationRequested();
                method.BeforeStep(phase, step);
                foreach (var t in trainees)
                    t.Optimizer.zero_grad();
                var input = PrepareInput(batch.Input);
                StepLoss loss;
                using (ComputePrecision.Bf16(options.Bf16))
                    loss = method.Loss(phase, batch, input);
                loss.Total.backward();
                method.AfterBackward(phase);
                foreach (var t in trainees)
                {
                    t.Optimizer.step();
                    t.Schedule.step();
                }
                method.AfterStep(phase);

                var value = loss.Total.item<float>();
                if (!float.IsFinite(value))
                    throw new InvalidOperationException($"the loss became {value} at step {step + 1} (phase {spec.Name}); lower optimizer.lr");
                var (c, n) = Losses.Correct(loss.Logits, batch.Target);
                correct += c;
                predictions += n;
                lossSum += value * batch.Size;
                samples += batch.Size;
                windowSamples += batch.Size;
                step++;
                if ((batch.Index + 1) % every == 0 || batch.Index == StepsPerEpoch - 1)
                {
                    var parts = loss.Parts.ToDictionary(p => p.Key, p => (double)p.Value.item<float>());
                    var rate = windowSamples / Math.Max(1e-9, window.Elapsed.TotalSeconds);
                    emit(new StepMetrics(spec.Name, globalEpoch + 1, step, value, parts,
                        trainees.Count > 0 ? trainees[0].Optimizer.param_groups[0].lr : 0, rate, batch.Index + 1, StepsPerEpoch));
                    window.Restart();
                    windowSamples = 0;
                }
            }
        }
        progress = progress with { Step = step };
        var accuracy = isText || predictions == 0 ? (double?)null : (double)correct / predictions;
        return (samples == 0 ? double.NaN : lossSum / samples, accuracy, samples, clock.Elapsed.TotalSeconds);
    }

    private void ReportQuantization(TrainingMethod method, string phase, int epoch)
    {
        var views = method.QuantizedWeights();
        if (views.Count == 0)
            return;
        foreach (var v in views)
            emit(SnapshotReports.Snapshot(phase, epoch, v));
        emit(SnapshotReports.Compression(method.Student, views));
    }

    private SafetensorsContent? TryRestore(TrainingMethod method, ref TrainingProgress progress)
    {
        if (!options.Resume || options.CheckpointPath is null || !File.Exists(options.CheckpointPath))
            return null;
        var (saved, content) = TrainingCheckpoint.Read(options.CheckpointPath);
        if (saved.Stage != options.Stage)
        {
            content.Dispose();
            return null;
        }
        try
        {
            if (saved.Method != method.Name)
                throw new RunInputException(
                    $"the checkpoint in '{options.CheckpointPath}' was written by method '{saved.Method}', but the spec's method is '{method.Name}': resume with the original spec, or start over in a new folder");
            foreach (var (name, model) in method.Models)
                model.LoadStateDictChecked(TrainingCheckpoint.Part(content, $"model.{name}."));
            method.LoadState(TrainingCheckpoint.Part(content, "method."));
        }
        catch
        {
            content.Dispose();
            throw;
        }
        progress = saved;
        emit(new LogMessage("info", $"resuming the {saved.Stage} from phase {saved.Phase + 1}, epoch {saved.Epoch + 1} (after step {saved.Step})"));
        return content;
    }

    private static void RestoreOptimizers(List<ActiveTrainee> trainees, SafetensorsContent content)
    {
        foreach (var t in trainees)
        {
            t.Optimizer.load_state_dict(TrainingCheckpoint.Part(content, $"optimizer.{t.Name}."));
            t.Schedule.load_state_dict(TrainingCheckpoint.Part(content, $"scheduler.{t.Name}."));
        }
    }

    private void SaveCheckpoint(TrainingMethod method, TrainingProgress progress, List<ActiveTrainee> trainees, int epoch)
    {
        if (options.CheckpointPath is null)
            return;
        using var all = new StateDict();
        var parts = new List<StateDict>();
        try
        {
            foreach (var (name, model) in method.Models)
            {
                var s = model.StateDictOf();
                parts.Add(s);
                all.AddWithPrefix($"model.{name}.", s);
            }
            var m = method.State();
            parts.Add(m);
            all.AddWithPrefix("method.", m);
            // Optimizers are saved only mid-phase: at a phase boundary the next phase starts fresh ones.
            foreach (var t in trainees)
            {
                var o = t.Optimizer.state_dict();
                parts.Add(o);
                all.AddWithPrefix($"optimizer.{t.Name}.", o);
                var s = t.Schedule.state_dict();
                parts.Add(s);
                all.AddWithPrefix($"scheduler.{t.Name}.", s);
            }
            var bytes = TrainingCheckpoint.Save(options.CheckpointPath, progress, all, options.SpecJson);
            emit(new CheckpointSaved("training", options.CheckpointPath, epoch, bytes));
        }
        finally
        {
            foreach (var p in parts)
                p.Dispose();
        }
    }
}
