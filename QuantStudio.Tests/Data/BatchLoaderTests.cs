using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Data;

public class BatchLoaderTests
{
    /// <summary>A split whose example i is the single float i (label i mod 3), counting the batches it builds.</summary>
    private sealed class CountingSplit(int count) : DataSplit("train")
    {
        private readonly List<Batch> built = [];
        public int Created { get { lock (built) return built.Count; } }
        /// <summary>Batches built so far whose tensors are still alive (not disposed).</summary>
        public int Undisposed { get { lock (built) return built.Count(b => !b.Input.IsInvalid || !b.Target.IsInvalid); } }
        public ManualResetEventSlim? Gate { get; set; }
        public int FailAt { get; set; } = -1;

        public override int Count => count;

        public override Batch CreateBatch(ReadOnlySpan<int> indices, bool augment, long seed, int epoch, int batchIndex)
        {
            Gate?.Wait(TimeSpan.FromSeconds(10));
            if (batchIndex == FailAt)
                throw new InvalidDataException($"batch {batchIndex} is broken");
            var x = indices.ToArray().Select(i => (float)i).ToArray();
            var y = indices.ToArray().Select(i => (long)(i % 3)).ToArray();
            var batch = new Batch(torch.tensor(x, [x.Length, 1]), torch.tensor(y), indices.ToArray(), epoch, batchIndex);
            lock (built)
                built.Add(batch);
            return batch;
        }
    }

    private static BatchLoader Loader(DataSplit split, int batchSize = 4, bool shuffle = true, long seed = 11, bool dropLast = false, int prefetch = 2) =>
        new(split, new BatchLoaderOptions { BatchSize = batchSize, Shuffle = shuffle, Seed = seed, DropLast = dropLast, Prefetch = prefetch });

    private static List<int[]> Collect(EpochBatches epoch)
    {
        var result = new List<int[]>();
        foreach (var batch in epoch)
            using (batch)
            {
                Assert.Equal(batch.ExampleIndices.Select(i => (float)i), batch.Input.data<float>().ToArray());
                result.Add(batch.ExampleIndices);
            }
        return result;
    }

    [Fact]
    public void Each_epoch_is_a_permutation_determined_by_seed_and_epoch()
    {
        var split = new CountingSplit(22);
        var loader = Loader(split);
        var e0 = Collect(loader.Epoch(0));
        var e0Again = Collect(Loader(split).Epoch(0));
        var e1 = Collect(loader.Epoch(1));
        var otherSeed = Collect(Loader(split, seed: 12).Epoch(0));

        Assert.Equal(6, e0.Count);
        Assert.Equal([4, 4, 4, 4, 4, 2], e0.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 22), e0.SelectMany(b => b).Order());
        Assert.Equal(e0.SelectMany(b => b), e0Again.SelectMany(b => b));
        Assert.NotEqual(e0.SelectMany(b => b), e1.SelectMany(b => b));
        Assert.NotEqual(e0.SelectMany(b => b), otherSeed.SelectMany(b => b));
    }

    [Fact]
    public void Starting_at_batch_k_gives_exactly_the_rest_of_the_uninterrupted_epoch()
    {
        var split = new CountingSplit(30);
        var full = Collect(Loader(split).Epoch(3));
        var resumed = Collect(Loader(split).Epoch(3, startBatch: 5));
        Assert.Equal(full.Skip(5).Select(b => string.Join(",", b)), resumed.Select(b => string.Join(",", b)));
        Assert.Empty(Collect(Loader(split).Epoch(3, startBatch: 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loader(split).Epoch(3, startBatch: 9));
    }

    [Fact]
    public void Drop_last_and_no_shuffle_behave_as_documented()
    {
        var split = new CountingSplit(10);
        var ordered = Collect(Loader(split, batchSize: 4, shuffle: false, dropLast: true).Epoch(0));
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], ordered);
        Assert.Equal(3, Loader(split, batchSize: 4).BatchesPerEpoch);
    }

    [Fact]
    public void The_producer_runs_ahead_of_the_consumer()
    {
        var split = new CountingSplit(40);
        using var epoch = Loader(split, prefetch: 3).Epoch(0);
        using var enumerator = epoch.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        using (enumerator.Current)
        {
            // While the consumer holds batch 0, the next three batches are built without being asked for.
            Assert.True(SpinWait.SpinUntil(() => epoch.ProducedCount >= 4, TimeSpan.FromSeconds(10)),
                $"only {epoch.ProducedCount} batches were produced");
            Thread.Sleep(100);
            // ... and no more than the channel holds: 1 taken + 3 waiting (+1 built and blocked on the full channel).
            Assert.InRange(epoch.ProducedCount, 4, 5);
        }
        Assert.True(enumerator.MoveNext());
        enumerator.Current.Dispose();
    }

    [Fact]
    public void Stopping_early_disposes_the_batches_prepared_ahead()
    {
        var split = new CountingSplit(64);
        var epoch = Loader(split, prefetch: 3).Epoch(0);
        foreach (var batch in epoch)
        {
            batch.Dispose();
            Assert.True(SpinWait.SpinUntil(() => epoch.ProducedCount >= 4, TimeSpan.FromSeconds(10)));
            break;
        }
        // Breaking out disposed the epoch: the producer stopped and its queued batches were freed.
        var produced = split.Created;
        Thread.Sleep(50);
        Assert.Equal(produced, split.Created);
        Assert.True(produced < 16);
        // Counted on this split's own batches, not process-wide, so tests running alongside cannot move it.
        Assert.Equal(0, split.Undisposed);
    }

    [Fact]
    public void Cancellation_stops_the_epoch()
    {
        var split = new CountingSplit(64);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var batch in Loader(split).Epoch(0, 0, cts.Token))
            {
                batch.Dispose();
                if (++seen == 2)
                    cts.Cancel();
            }
        });
        Assert.Equal(2, seen);
    }

    [Fact]
    public void A_failure_while_building_a_batch_reaches_the_consumer()
    {
        var split = new CountingSplit(40) { FailAt = 2 };
        var seen = new List<int>();
        var ex = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var batch in Loader(split).Epoch(0))
                using (batch)
                    seen.Add(batch.Index);
        });
        Assert.Contains("batch 2 is broken", ex.Message);
        Assert.Equal([0, 1], seen);
    }

    [Fact]
    public void An_epoch_is_enumerated_once()
    {
        using var epoch = Loader(new CountingSplit(8)).Epoch(0);
        foreach (var b in epoch)
            b.Dispose();
        Assert.Throws<InvalidOperationException>(() => epoch.GetEnumerator());
    }

    [Fact]
    public void A_loaded_dataset_gives_shuffled_training_and_ordered_evaluation_loaders()
    {
        var options = new DatasetLoadOptions { ShapesTrainCount = 100, ShapesTestCount = 30 };
        var data = DatasetRegistry.Load(new Core.Experiments.DatasetSpec { Name = "shapes", ValidationSplit = 0.1, Augment = true }, 9, options);
        var train = data.CreateTrainLoader(batchSize: 16);
        Assert.True(train.Options.Shuffle);
        Assert.True(train.Options.Augment);
        Assert.Equal(9, train.Options.Seed);
        var eval = data.CreateEvalLoader(data.Test, batchSize: 16);
        var indices = new List<int>();
        foreach (var batch in eval.Epoch(0))
            using (batch)
            {
                Assert.Equal([batch.Size, 3L, 32, 32], batch.Input.shape);
                indices.AddRange(batch.ExampleIndices);
            }
        Assert.Equal(Enumerable.Range(0, 30), indices);

        // Resuming an augmented epoch at batch 2 reproduces the same tensors.
        var full = new List<float[]>();
        foreach (var batch in train.Epoch(4))
            using (batch)
                full.Add(batch.Input.data<float>().ToArray());
        var resumed = new List<float[]>();
        foreach (var batch in data.CreateTrainLoader(batchSize: 16).Epoch(4, startBatch: 2))
            using (batch)
                resumed.Add(batch.Input.data<float>().ToArray());
        Assert.Equal(full.Skip(2), resumed);
    }
}
