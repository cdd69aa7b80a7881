using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>The evaluator against hand computations, and a loaded checkpoint against the in-memory quantized model.</summary>
public sealed class EvaluationTests : IDisposable
{
    internal static readonly DatasetLoadOptions SmallShapes = new() { ShapesTrainCount = 1200, ShapesTestCount = 300 };
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-eval-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A few epochs of plain SGD, so accuracy is well above chance and a wrong weight would show.</summary>
    internal static Module<Tensor, Tensor> TrainedStudent(LoadedDataset data, int epochs = 2)
    {
        var model = Create("cifar-student-3", Shapes, width: 1, seed: 11);
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 3e-3);
        var loader = data.CreateTrainLoader(32);
        model.train();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            using var batches = loader.Epoch(epoch);
            foreach (var batch in batches)
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    optimizer.zero_grad();
                    torch.nn.functional.cross_entropy(model.call(batch.Input), batch.Target).backward();
                    optimizer.step();
                }
            }
        }
        model.eval();
        return model;
    }

    /// <summary>Accuracy and mean cross-entropy from logits, in managed double arithmetic.</summary>
    private static (double Accuracy, double Loss, long Count) ByHand(Module<Tensor, Tensor> model, DataSplit split, int batch)
    {
        long correct = 0, count = 0;
        double loss = 0;
        using var noGrad = torch.no_grad();
        for (var start = 0; start < split.Count; start += batch)
        {
            var indices = Enumerable.Range(start, Math.Min(batch, split.Count - start)).ToArray();
            using var b = split.CreateBatch(indices, augment: false, seed: 0, epoch: 0, batchIndex: 0);
            using var scope = torch.NewDisposeScope();
            var output = model.call(b.Input);
            var classes = (int)output.size(-1);
            var logits = output.reshape(-1, classes).data<float>().ToArray();
            var targets = b.Target.reshape(-1).data<long>().ToArray();
            for (var i = 0; i < targets.Length; i++)
            {
                var row = logits.AsSpan(i * classes, classes);
                var max = row.ToArray().Max();
                var logSum = max + Math.Log(row.ToArray().Sum(v => Math.Exp(v - max)));
                loss += logSum - row[(int)targets[i]];
                var best = 0;
                for (var c = 1; c < classes; c++)
                    best = row[c] > row[best] ? c : best;
                correct += best == targets[i] ? 1 : 0;
                count++;
            }
        }
        return ((double)correct / count, loss / count, count);
    }

    [Fact]
    public void Accuracy_and_loss_match_a_hand_computation_and_training_mode_is_restored()
    {
        var data = SquareImages.Load(600, 300, 5);
        using var model = TrainedStudent(data);
        model.train();
        var result = ModelEvaluator.Evaluate(model, data, data.Test, batchSize: 64);
        Assert.True(model.training);

        model.eval();
        var (accuracy, loss, count) = ByHand(model, data.Test, 100);
        Assert.Equal(300, count);
        Assert.Equal(300, result.Examples);
        Assert.Equal("test", result.Split);
        Assert.Equal(accuracy, result.Accuracy!.Value, 9);
        Assert.Equal(loss, result.Loss, 4);
        Assert.Null(result.Perplexity);
        Assert.True(result.Accuracy > 0.5, $"accuracy {result.Accuracy} after training");
    }

    [Fact]
    public void The_input_hook_prepares_every_batch_and_the_model_scores_what_it_returns()
    {
        var data = SquareImages.Load(200, 100, 3);
        using var model = TrainedStudent(data, epochs: 1);
        var plain = ModelEvaluator.Evaluate(model, data, data.Test, batchSize: 32);

        var calls = 0;
        var channelsLast = ModelEvaluator.Evaluate(model, data, data.Test, batchSize: 32, x =>
        {
            calls++;
            return x.ToChannelsLast();
        });
        Assert.Equal(4, calls);
        Assert.Equal(plain.Correct, channelsLast.Correct);
        Assert.Equal(plain.Loss, channelsLast.Loss, 4);

        var blank = ModelEvaluator.Evaluate(model, data, data.Test, batchSize: 32, x => x.mul(0));
        Assert.Equal(plain.Examples, blank.Examples);
        Assert.NotEqual(plain.Loss, blank.Loss);
    }

    [Fact]
    public void Perplexity_is_exp_of_the_mean_per_character_cross_entropy()
    {
        var options = new DatasetLoadOptions { SyntheticTextTrainCharacters = 4000, SyntheticTextTestCharacters = 1000, SequenceLength = 32 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "text-synthetic" }, 2, options);
        using var model = Create("char-lstm", InputShape.Text(data.Info.NumClasses), width: 0.25);
        var result = ModelEvaluator.Evaluate(model, data, data.Test, batchSize: 8);

        model.eval();
        var (accuracy, loss, count) = ByHand(model, data.Test, 5);
        Assert.Equal(data.Test.Count * 32L, count);
        Assert.Equal(count, result.Predictions);
        Assert.Equal(loss, result.Loss, 4);
        Assert.Equal(Math.Exp(loss), result.Perplexity!.Value, 3);
        Assert.Null(result.Accuracy);
        Assert.Equal(accuracy * count, result.Correct, 6);
        // An untrained model is close to uniform over the vocabulary.
        Assert.InRange(result.Perplexity.Value, 0.5 * data.Info.NumClasses, 1.5 * data.Info.NumClasses);
    }

    [Fact]
    public void Loaded_checkpoint_has_the_accuracy_and_logits_of_the_in_memory_quantized_model()
    {
        var data = SquareImages.Load(600, 400, 9);
        using var model = TrainedStudent(data);
        var encodings = new Dictionary<string, TensorEncoding>();
        foreach (var name in Weights(model))
            encodings[name] = name == "features.conv1.weight" ? new PointsEncoding(NonUniformQuantizer.UniformPoints(8), 64) : new UniformEncoding(3, 128, "uniform");

        // In memory: the model with its weights replaced by the directly quantized ones.
        using var quantized = Create("cifar-student-3", Shapes, seed: 99);
        using (torch.NewDisposeScope())
        {
            using var state = model.StateDictOf();
            var q = new StateDict();
            foreach (var (name, tensor) in state)
            {
                q.Add(name, encodings.GetValueOrDefault(name) switch
                {
                    UniformEncoding u => new BucketedQuantizer(new QuantizerSettings(u.Bits, u.BucketSize)).Quantize(tensor).Dequantized,
                    PointsEncoding p => torch.tensor(new NonUniformQuantizer(p.Points, p.BucketSize).Quantize(tensor.data<float>().ToArray()).Dequantized, tensor.shape),
                    _ => tensor.clone(),
                });
            }
            quantized.LoadStateDictChecked(q);
        }
        var inMemory = ModelEvaluator.Evaluate(quantized, data, data.Test);
        var fullPrecision = ModelEvaluator.Evaluate(model, data, data.Test);

        var path = Path.Combine(dir, "model.qsc");
        var description = new CompressedModelDescription("cifar-student-3", 1, 1, Shapes, "shapes", data.Info.Normalization,
            new QuantizationSpec { Bits = 3, BucketSize = 128 }, Methods.PostTraining) { Seed = 9 };
        CompressedCheckpoint.Save(path, model, description, encodings);
        using var loaded = CompressedCheckpoint.Load(path);
        var fromFile = ModelEvaluator.Evaluate(loaded.Model, data, data.Test);

        Assert.Equal(inMemory, fromFile);
        Assert.True(fullPrecision.Accuracy > 0.5, $"fp32 accuracy {fullPrecision.Accuracy}");
        Assert.True(inMemory.Accuracy > 0.4, $"quantized accuracy {inMemory.Accuracy}");
        // Quantization changed the network: the file does not simply hold the fp32 weights.
        Assert.NotEqual(fullPrecision.Loss, fromFile.Loss);

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var batch = data.Test.CreateBatch(Enumerable.Range(0, 32).ToArray(), false, 0, 0, 0);
        quantized.eval();
        AssertBitwiseEqual(quantized.call(batch.Input), loaded.Model.call(batch.Input), "logits");
    }

    [Fact]
    public void Latency_probe_times_batch_1_below_batch_64_and_restores_the_mode()
    {
        using var model = Create("cifar-student-3", Shapes);
        model.train();
        var latency = LatencyProbe.Measure(model, Shapes, warmup: 1, iterations: 3);
        Assert.True(model.training);
        Assert.True(latency.Batch1Ms > 0);
        Assert.True(latency.Batch64Ms > latency.Batch1Ms, $"batch 1: {latency.Batch1Ms} ms, batch 64: {latency.Batch64Ms} ms");

        using var lm = Create("char-lstm", InputShape.Text(20), width: 0.25);
        Assert.True(LatencyProbe.MedianMs(lm, InputShape.Text(20), batch: 2, sequenceLength: 16, warmup: 0, iterations: 1) > 0);
    }
}
