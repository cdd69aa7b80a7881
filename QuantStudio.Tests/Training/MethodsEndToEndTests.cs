using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class MethodsEndToEndTests
{
    [Theory]
    [InlineData(Methods.FullPrecision, new[] { "full_precision" })]
    [InlineData(Methods.Distillation, new[] { "teacher", "distillation" })]
    [InlineData(Methods.PostTraining, new[] { "full_precision", "post_training_quantization" })]
    [InlineData(Methods.QuantizedDistillation, new[] { "teacher", "quantized_distillation" })]
    [InlineData(Methods.DifferentiableQuantization, new[] { "teacher", "distillation", "differentiable_quantization" })]
    [InlineData(Methods.Qat, new[] { "qat" })]
    public void Every_method_runs_to_the_end_with_the_expected_events(string method, string[] phases)
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = TrainingRuns.Spec(method);
        var events = TrainingRuns.Run(spec, dir);

        Assert.IsType<RunStarted>(events[0]);
        Assert.IsType<RunFinished>(events[^1]);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal(phases, events.OfType<PhaseStarted>().Select(p => p.Name));
        var trainedPhases = phases.Count(p => p != "post_training_quantization");
        Assert.Equal(trainedPhases, events.OfType<EpochMetrics>().Count());
        Assert.All(events.OfType<EpochMetrics>(), m => Assert.InRange(m.ValAccuracy!.Value, 0, 1));
        Assert.NotEmpty(events.OfType<StepMetrics>());
        Assert.Contains(events, e => e is CheckpointSaved { Kind: "training" });
        Assert.Equal(Methods.UsesTeacher(method), events.Any(e => e is CheckpointSaved { Kind: "teacher" }));
        Assert.Equal(Methods.UsesTeacher(method), File.Exists(Path.Combine(dir, ExperimentRunner.TeacherFileName)));

        var summary = RunSummary.Read(Path.Combine(dir, ExperimentRunner.SummaryFileName));
        Assert.Equal(method, summary.Method);
        Assert.InRange(summary.StudentAccuracy!.Value, 0, 1);
        Assert.True(summary.StudentLatencyMs.Batch1 > 0 && summary.StudentLatencyMs.Batch64 > 0);
        Assert.True(summary.TrainSamplesPerS > 0);
        var report = events.OfType<CompressionReport>().Last();
        Assert.Equal(report.PackedBytes, summary.PackedBytes);
        if (Methods.Quantizes(method))
        {
            Assert.NotEmpty(events.OfType<LayerSnapshot>());
            Assert.True(summary.CompressionRatio > 2, $"ratio {summary.CompressionRatio}");
            Assert.All(events.OfType<LayerSnapshot>(), s =>
            {
                Assert.Equal(SnapshotReports.HistogramBins, s.HistogramCounts.Length);
                Assert.Equal(s.HistogramEdges.Length, s.HistogramCounts.Length + 1);
                Assert.NotEmpty(s.Levels);
            });
            // The network rebuilt from the stored weights (and, for QAT, activation quantizers) is the evaluated student.
            Assert.Equal(summary.StudentAccuracy, summary.StudentCheckpointAccuracy);
        }
        else
        {
            Assert.Empty(events.OfType<LayerSnapshot>());
            Assert.Equal(summary.Fp32Bytes, summary.PackedBytes);
        }

        // model.qsc loads back to the network the summary's checkpoint accuracy was measured on.
        using (var loaded = Core.Checkpoints.CompressedCheckpoint.Load(Path.Combine(dir, ExperimentRunner.ModelFileName)))
        {
            var data = Core.Data.DatasetRegistry.Load(spec.Dataset, spec.Seed, TrainingRuns.SmallShapes);
            var eval = ModelEvaluator.Evaluate(loaded.Model, data, data.Test, 64);
            Assert.Equal(summary.StudentCheckpointAccuracy, eval.Accuracy);
            Assert.Equal(new FileInfo(Path.Combine(dir, ExperimentRunner.ModelFileName)).Length, summary.QscBytes);
            // QAT quantizes the input of every conv and linear but the first; the other methods keep activations in full precision.
            Assert.Equal(method == Methods.Qat ? 5 : 0, loaded.Description.ActivationQuantizers.Count);
        }
        Assert.Contains(events, e => e is CheckpointSaved { Kind: "model" });

        // Every event is in metrics.jsonl, in order.
        var stored = JsonlEventSink.Read(Path.Combine(dir, ExperimentRunner.MetricsFileName));
        Assert.Equal(events.Select(e => e.Seq), stored.Select(e => e.Seq));
        Assert.Equal(events.Select(e => e.GetType()), stored.Select(e => e.GetType()));
    }

    [Fact]
    public void Qkd_runs_its_three_phases_in_order_with_their_epochs()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = TrainingRuns.Spec(Methods.Qkd) with { Qkd = new QkdSpec { SelfStudyingEpochs = 1, CoStudyingEpochs = 2, TutoringEpochs = 1 } };
        var events = TrainingRuns.Run(spec, dir);

        var phases = events.OfType<PhaseStarted>().Select(p => (p.Name, p.Epochs)).ToList();
        Assert.Equal([("teacher", 1), ("self_studying", 1), ("co_studying", 2), ("tutoring", 1)], phases);
        var epochs = events.OfType<EpochMetrics>().Select(m => m.Phase).ToList();
        Assert.Equal(["teacher", "self_studying", "co_studying", "co_studying", "tutoring"], epochs);
        // Co-studying trains both networks: its steps carry the teacher's own loss terms.
        Assert.All(events.OfType<StepMetrics>().Where(s => s.Phase == "co_studying"), s => Assert.Contains("teacher_kd", s.LossParts.Keys));
        Assert.All(events.OfType<StepMetrics>().Where(s => s.Phase == "self_studying"), s => Assert.Equal(["ce"], s.LossParts.Keys));
        // First and last layers at 8 bits, the rest at the spec's 4.
        var bits = events.OfType<LayerSnapshot>().Where(s => s.Phase == "final").Select(s => s.Bits).ToList();
        Assert.Equal(8, bits[0]);
        Assert.Equal(8, bits[^1]);
        Assert.All(bits.Skip(1).SkipLast(1), b => Assert.Equal(4, b));
        Assert.IsType<RunFinished>(events[^1]);

        // model.qsc holds the activation quantizers too: the checkpoint scores what the trained student scored.
        var summary = RunSummary.Read(Path.Combine(dir, ExperimentRunner.SummaryFileName));
        Assert.Equal(summary.StudentAccuracy, summary.StudentCheckpointAccuracy);
        using var loaded = Core.Checkpoints.CompressedCheckpoint.Load(Path.Combine(dir, ExperimentRunner.ModelFileName));
        var activations = loaded.Description.ActivationQuantizers;
        Assert.Equal(["features.conv2", "features.conv3", "features.conv4", "classifier.fc1", "classifier.classifier"], activations.Select(a => a.Layer));
        // The last layer's input at 8 bits like its weights, the rest at the spec's activation bits.
        Assert.Equal([4, 4, 4, 4, 8], activations.Select(a => a.Bits));
        var data = Core.Data.DatasetRegistry.Load(spec.Dataset, spec.Seed, TrainingRuns.SmallShapes);
        Assert.Equal(summary.StudentCheckpointAccuracy, ModelEvaluator.Evaluate(loaded.Model, data, data.Test, 64).Accuracy);
    }

    [Fact]
    public void The_char_lstm_reports_perplexity_under_quantized_distillation()
    {
        var dir = TrainingRuns.NewDirectory();
        var spec = TrainingRuns.Spec(Methods.QuantizedDistillation) with
        {
            Dataset = new DatasetSpec { Name = "text-synthetic", ValidationSplit = 0.1, Subset = 64 },
            Teacher = new TeacherSpec { Arch = "char-lstm", Width = 0.25 },
            Student = new StudentSpec { Arch = "char-lstm", Width = 0.25 },
            Optimizer = new OptimizerSpec { Name = "adam", Lr = 0.005, Epochs = 1, BatchSize = 16, Nesterov = false, WeightDecay = 0 },
            ChannelsLast = false,
        };
        var data = new Core.Data.DatasetLoadOptions { SyntheticTextTrainCharacters = 8000, SyntheticTextTestCharacters = 2000, SequenceLength = 32 };
        var events = TrainingRuns.Run(spec, dir, data: data);

        var epoch = events.OfType<EpochMetrics>().Last();
        Assert.Null(epoch.ValAccuracy);
        // A model that learned anything beats the uniform guess over the vocabulary.
        Assert.InRange(epoch.ValPerplexity!.Value, 1, 54);
        var summary = RunSummary.Read(Path.Combine(dir, ExperimentRunner.SummaryFileName));
        Assert.NotNull(summary.StudentPerplexity);
        Assert.Contains(events.OfType<LayerSnapshot>(), s => s.Layer.StartsWith("lstm.weight_hh", StringComparison.Ordinal));
    }
}
