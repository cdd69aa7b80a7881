using System.Text.RegularExpressions;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Tests.Engine;

/// <summary>A training loop in dispose scopes holds as many tensors and as much memory after 10,000 steps as after 1,000.</summary>
[Collection(ProcessWideStateCollection.Name)]
public partial class MemoryFlatnessTests
{
    [GeneratedRegex(@"^VmRSS:\s+(\d+) kB", RegexOptions.Multiline)]
    private static partial Regex VmRss();

    private static long RssBytes() => long.Parse(VmRss().Match(File.ReadAllText("/proc/self/status")).Groups[1].Value) * 1024;

    private static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Fact]
    public void Ten_thousand_quantized_training_steps_keep_the_live_tensor_count_and_rss_flat()
    {
        CollectGarbage();
        torch.manual_seed(3);
        using var x = torch.randn(32, 16);
        using var y = torch.tensor(Enumerable.Range(0, 32).Select(i => (long)(i % 4)).ToArray());
        using var model = nn.Sequential(("fc1", Layer.Linear(16, 64)), ("relu", nn.ReLU()), ("fc2", Layer.Linear(64, 4)));
        // The same path as quantized training: the fused quantizer as a straight-through weight transform, our optimizer.
        var quantizer = new BucketedQuantizer(new QuantizerSettings(4, 32));
        foreach (var layer in model.modules().OfType<IWeightTransformable>())
            layer.WeightTransform = w =>
            {
                using var q = quantizer.Quantize(w);
                return w.add(q.Dequantized.sub(w).detach());
            };
        using var optimizer = Optimizers.SGD(model.parameters(), lr: 0.05, momentum: 0.9);
        var baseline = Tensor.TotalCount;

        double Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = F.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
            // Intermediates are alive until the scope closes.
            Assert.True(Tensor.TotalCount > baseline);
            return loss.item<float>();
        }

        const int warmup = 1000, total = 10_000;
        var firstLoss = Step();
        for (var i = 1; i < warmup; i++)
            Step();
        CollectGarbage();
        var afterWarmup = Tensor.TotalCount;
        var rssAfterWarmup = RssBytes();
        var lastLoss = 0.0;
        for (var i = warmup; i < total; i++)
        {
            lastLoss = Step();
            if (i % 1000 == 0)
                Assert.Equal(afterWarmup, Tensor.TotalCount);
        }
        CollectGarbage();
        var rssGrowth = RssBytes() - rssAfterWarmup;

        // The optimizer's momentum buffers appear at the first step; after that, nothing accumulates.
        Assert.Equal(afterWarmup, Tensor.TotalCount);
        Assert.True(afterWarmup - baseline <= 4, $"{afterWarmup - baseline} tensors outlived the first 1,000 steps (4 momentum buffers expected)");
        // One leaked intermediate per step would be ≥ 2 kB × 9,000 steps ≈ 18 MB.
        Assert.True(rssGrowth < 16L << 20, $"RSS grew by {rssGrowth >> 10} kB over {total - warmup} steps after warm-up");
        // And the steps did train: the network memorises 32 points.
        Assert.True(lastLoss < 0.2 * firstLoss, $"loss went from {firstLoss} to {lastLoss}");
    }

    [Fact]
    public void Disposing_a_scope_frees_every_tensor_created_in_it_and_hands_results_outwards()
    {
        CollectGarbage();
        var baseline = Tensor.TotalCount;
        Tensor kept;
        using (var outer = torch.NewDisposeScope())
        {
            using (var inner = torch.NewDisposeScope())
            {
                var a = torch.ones(3);
                var b = a.mul(2.0);
                kept = inner.MoveToOuter(b.add(1.0));
                Assert.Equal(baseline + 3, Tensor.TotalCount);
            }
            Assert.Equal(baseline + 1, Tensor.TotalCount);
            Assert.Equal(new[] { 3f, 3f, 3f }, kept.data<float>().ToArray());
            kept.DetachFromDisposeScope();
        }
        Assert.Equal(baseline + 1, Tensor.TotalCount);
        kept.Dispose();
        Assert.Equal(baseline, Tensor.TotalCount);
    }
}
