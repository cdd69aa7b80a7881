using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Core.Models;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018) sized for 32×32 input: the stem and the second stage keep
/// stride 1 (ImageNet's first two stride-2 steps would shrink CIFAR images to 8×8 too early).
/// Inverted residual blocks: 1×1 expand → ReLU6 → 3×3 depthwise → ReLU6 → 1×1 linear projection.
/// </summary>
public sealed class MobileNetV2 : Module<Tensor, Tensor>
{
    // (expansion t, channels c, repeats n, stride s) — the paper's Table 2, CIFAR strides.
    private static readonly (int t, int c, int n, int s)[] Config =
        [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    private readonly Sequential features;
    private readonly TransformableLinear classifier;

    public MobileNetV2(InputShape input, double width = 1.0, double depth = 1.0) : base("mobilenetv2")
    {
        var f = Sequential();
        var inCh = ModelScaling.Divisible(32 * width);
        f.append("stem", ConvBnRelu6(input.Channels, inCh, 3, 1, 1));
        var index = 0;
        foreach (var (t, c, n, s) in Config)
        {
            var outCh = ModelScaling.Divisible(c * width);
            var repeats = ModelScaling.Blocks(n, depth);
            for (var i = 0; i < repeats; i++)
            {
                f.append($"block{index++}", new InvertedResidual(inCh, outCh, i == 0 ? s : 1, t));
                inCh = outCh;
            }
        }
        var last = width > 1.0 ? ModelScaling.Divisible(1280 * width) : 1280;
        f.append("head", ConvBnRelu6(inCh, last, 1, 1, 1));
        features = f;
        register_module("features", features);
        classifier = Layer.Linear(last, input.Classes);
        register_module("classifier", classifier);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = F.adaptive_avg_pool2d(features.call(input), 1).flatten(1);
        return scope.MoveToOuter(classifier.call(x));
    }

    private static Sequential ConvBnRelu6(long inCh, long outCh, long kernel, long stride, long groups) =>
        Sequential(("conv", Layer.Conv2d(inCh, outCh, kernel, stride: stride, padding: kernel / 2, groups: groups, hasBias: false)),
            ("bn", Layer.BatchNorm2d(outCh)),
            ("relu6", torch.nn.ReLU6()));

    private sealed class InvertedResidual : Module<Tensor, Tensor>
    {
        private readonly Sequential body;
        private readonly bool residual;

        public InvertedResidual(long inCh, long outCh, long stride, int expansion) : base(nameof(InvertedResidual))
        {
            var hidden = inCh * expansion;
            residual = stride == 1 && inCh == outCh;
            var b = Sequential();
            if (expansion != 1)
                b.append("expand", ConvBnRelu6(inCh, hidden, 1, 1, 1));
            b.append("depthwise", ConvBnRelu6(hidden, hidden, 3, stride, hidden));
            b.append("project", Layer.Conv2d(hidden, outCh, 1, hasBias: false));
            b.append("project_bn", Layer.BatchNorm2d(outCh));
            body = b;
            register_module("body", body);
        }

        public override Tensor forward(Tensor input)
        {
            if (!residual)
                return body.call(input);
            using var scope = torch.NewDisposeScope();
            return scope.MoveToOuter(body.call(input).Plus(input));
        }
    }
}
