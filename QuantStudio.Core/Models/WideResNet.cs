using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Core.Models;

/// <summary>
/// Wide ResNet WRN-d-k (Zagoruyko &amp; Komodakis 2016): pre-activation basic blocks, three stages of
/// n = (d − 4) / 6 blocks with 16k, 32k and 64k filters, 1×1 conv shortcuts where the shape changes.
/// </summary>
public sealed class WideResNet : Module<Tensor, Tensor>
{
    private readonly TransformableConv2d stem;
    private readonly Sequential stages;
    private readonly BatchNorm2dLayer bn;
    private readonly TransformableLinear classifier;

    public WideResNet(InputShape input, int depth, double widen, double dropout = 0) : base($"wrn-{depth}-{widen}")
    {
        if (depth < 10 || (depth - 4) % 6 != 0)
            throw new ArgumentException($"WRN depth must be 6n+4 (10, 16, 22, 28, 40 ...), got {depth}", nameof(depth));
        var n = (depth - 4) / 6;
        stem = Layer.Conv2d(input.Channels, 16, 3, padding: 1, hasBias: false);
        register_module("stem", stem);
        var s = Sequential();
        long inCh = 16;
        for (var stage = 0; stage < 3; stage++)
        {
            var outCh = ModelScaling.Channels(16L << stage, widen);
            for (var b = 0; b < n; b++)
            {
                s.append($"block{stage + 1}_{b}", new PreActBlock(inCh, outCh, stage > 0 && b == 0 ? 2 : 1, dropout));
                inCh = outCh;
            }
        }
        stages = s;
        register_module("stages", stages);
        bn = Layer.BatchNorm2d(inCh);
        register_module("bn", bn);
        classifier = Layer.Linear(inCh, input.Classes);
        register_module("classifier", classifier);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = F.relu(bn.call(stages.call(stem.call(input))));
        return scope.MoveToOuter(classifier.call(F.adaptive_avg_pool2d(x, 1).flatten(1)));
    }

    private sealed class PreActBlock : Module<Tensor, Tensor>
    {
        private readonly BatchNorm2dLayer bn1, bn2;
        private readonly TransformableConv2d conv1, conv2;
        private readonly TransformableConv2d? shortcut;
        private readonly double dropout;

        public PreActBlock(long inCh, long outCh, int stride, double dropout) : base(nameof(PreActBlock))
        {
            this.dropout = dropout;
            bn1 = Layer.BatchNorm2d(inCh);
            register_module("bn1", bn1);
            conv1 = Layer.Conv2d(inCh, outCh, 3, stride: stride, padding: 1, hasBias: false);
            register_module("conv1", conv1);
            bn2 = Layer.BatchNorm2d(outCh);
            register_module("bn2", bn2);
            conv2 = Layer.Conv2d(outCh, outCh, 3, padding: 1, hasBias: false);
            register_module("conv2", conv2);
            if (stride != 1 || inCh != outCh)
            {
                shortcut = Layer.Conv2d(inCh, outCh, 1, stride: stride, hasBias: false);
                register_module("shortcut", shortcut);
            }
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = torch.NewDisposeScope();
            var a = F.relu(bn1.call(input));
            var y = conv1.call(a);
            y = F.relu(bn2.call(y));
            if (dropout > 0)
                y = F.dropout(y, dropout, training);
            y = conv2.call(y);
            var skip = shortcut is null ? input : shortcut.call(a);
            return scope.MoveToOuter(y.Plus(skip));
        }
    }
}
