using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Core.Models;

/// <summary>
/// CIFAR ResNet (He et al. 2016, §4.2): a 3×3 conv with 16 filters, three stages of n basic blocks
/// with 16, 32 and 64 filters (stride 2 entering stages 2 and 3), global average pooling and a
/// classifier; depth = 6n + 2 (ResNet-20: n = 3). Shortcuts that change shape use the paper's
/// option A: subsample and zero-pad the channels, so they add no parameters.
/// </summary>
public sealed class CifarResNet : Module<Tensor, Tensor>
{
    private readonly Sequential stem;
    private readonly Sequential stages;
    private readonly TransformableLinear classifier;

    public CifarResNet(string name, InputShape input, int blocksPerStage, double width = 1.0) : base(name)
    {
        var w0 = ModelScaling.Channels(16, width);
        stem = this.Registered("stem", Sequential(
            ("conv", Layer.Conv2d(input.Channels, w0, 3, padding: 1, hasBias: false)),
            ("bn", Layer.BatchNorm2d(w0)),
            ("relu", torch.nn.ReLU())));
        var s = Sequential();
        var inCh = w0;
        long[] widths = [w0, ModelScaling.Channels(32, width), ModelScaling.Channels(64, width)];
        for (var stage = 0; stage < 3; stage++)
        {
            for (var b = 0; b < blocksPerStage; b++)
            {
                var stride = stage > 0 && b == 0 ? 2 : 1;
                s.append($"layer{stage + 1}_{b}", new BasicBlock(inCh, widths[stage], stride));
                inCh = widths[stage];
            }
        }
        stages = s;
        register_module("stages", stages);
        classifier = Layer.Linear(inCh, input.Classes);
        register_module("classifier", classifier);
    }

    /// <summary>ResNet-(6n+2) for n blocks per stage: 20, 32, 56 → n = 3, 5, 9.</summary>
    public static CifarResNet OfDepth(int depth, InputShape input, double width = 1.0, double depthMultiplier = 1.0)
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new ArgumentException($"CIFAR ResNet depth must be 6n+2 (20, 32, 56 ...), got {depth}", nameof(depth));
        return new CifarResNet($"resnet{depth}", input, ModelScaling.Blocks((depth - 2) / 6, depthMultiplier), width);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = stages.call(stem.call(input));
        var pooled = F.adaptive_avg_pool2d(x, 1).flatten(1);
        return scope.MoveToOuter(classifier.call(pooled));
    }

    /// <summary>conv3×3 → BN → ReLU → conv3×3 → BN, plus the shortcut, then ReLU.</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly TransformableConv2d conv1, conv2;
        private readonly BatchNorm2dLayer bn1, bn2;
        private readonly long inChannels, outChannels;
        private readonly int stride;

        public BasicBlock(long inChannels, long outChannels, int stride) : base(nameof(BasicBlock))
        {
            this.inChannels = inChannels;
            this.outChannels = outChannels;
            this.stride = stride;
            conv1 = Layer.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, hasBias: false);
            register_module("conv1", conv1);
            bn1 = Layer.BatchNorm2d(outChannels);
            register_module("bn1", bn1);
            conv2 = Layer.Conv2d(outChannels, outChannels, 3, padding: 1, hasBias: false);
            register_module("conv2", conv2);
            bn2 = Layer.BatchNorm2d(outChannels);
            register_module("bn2", bn2);
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = torch.NewDisposeScope();
            var y = bn2.call(conv2.call(F.relu(bn1.call(conv1.call(input)))));
            return scope.MoveToOuter(F.relu(y.Plus(Shortcut(input))));
        }

        private Tensor Shortcut(Tensor x)
        {
            if (stride == 1 && inChannels == outChannels)
                return x;
            var sub = stride == 1 ? x : x.slice(2, 0, x.size(2), stride).slice(3, 0, x.size(3), stride);
            var extra = outChannels - inChannels;
            var before = extra / 2;
            var shape = sub.shape;
            var parts = new List<Tensor>();
            if (before > 0)
                parts.Add(torch.zeros([shape[0], before, shape[2], shape[3]], sub.dtype));
            parts.Add(sub);
            if (extra - before > 0)
                parts.Add(torch.zeros([shape[0], extra - before, shape[2], shape[3]], sub.dtype));
            return torch.cat(parts, 1);
        }
    }
}
