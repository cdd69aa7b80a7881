using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Training;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TeacherLogitCacheTests
{
    [Fact]
    public void Cached_teacher_logits_give_the_losses_of_recomputing_them()
    {
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "shapes" }, 4, TrainingRuns.SmallShapes);
        var shape = InputShape.Image(3, 32, 32, 10);
        torch.manual_seed(1);
        using var teacher = ModelZoo.Create("cifar-student-2", shape, 0.5);
        torch.manual_seed(2);
        using var student = ModelZoo.Create("cifar-student-3", shape);
        Tensor Prepare(Tensor x) => Trainer.PrepareInput(x, channelsLast: false);
        using var cached = new TeacherLogits(teacher, data, 32, bf16: false, Prepare);
        using var live = new TeacherLogits(teacher, data, 32, bf16: false, Prepare, allowCache: false);
        Assert.True(cached.UsesCache);
        Assert.False(live.UsesCache);

        var batches = 0;
        // Shuffled training batches: the cache is looked up by example index, in any order.
        using var epoch = data.CreateTrainLoader(32).Epoch(1);
        foreach (var batch in epoch)
        {
            using (batch)
            using (torch.NewDisposeScope())
            {
                var a = cached.For(batch, Prepare(batch.Input));
                var b = live.For(batch, Prepare(batch.Input));
                Assert.True(a.sub(b).abs().max().item<float>() < 1e-5f);
                using var noGrad = torch.no_grad();
                var s = student.call(Prepare(batch.Input));
                var la = Losses.Distillation(s, a, batch.Target, 2, 0.7).Total.item<float>();
                var lb = Losses.Distillation(s, b, batch.Target, 2, 0.7).Total.item<float>();
                Assert.Equal(lb, la, 5);
                batches++;
            }
        }
        Assert.True(cached.IsCached);
        Assert.Equal(data.CreateTrainLoader(32).BatchesPerEpoch, batches);
    }

    [Fact]
    public void Augmented_batches_are_never_served_from_the_cache()
    {
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "shapes", Augment = true }, 4, TrainingRuns.SmallShapes);
        using var teacher = ModelZoo.Create("cifar-student-3", InputShape.Image(3, 32, 32, 10));
        using var logits = new TeacherLogits(teacher, data, 32, bf16: false, x => x.alias());
        Assert.False(logits.UsesCache);
    }
}
