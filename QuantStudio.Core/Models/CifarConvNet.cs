using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>
/// The plain convolutional nets of Polino et al. (2018) for CIFAR-10: conv → BatchNorm → ReLU
/// blocks, max-pooling after the listed layers, then fully connected layers with ReLU.
/// </summary>
public sealed class CifarConvNet : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Sequential classifier;

    /// <param name="filters">Output channels of each conv layer.</param>
    /// <param name="kernel">Square kernel size (padding keeps the spatial size).</param>
    /// <param name="poolAfter">1-based indices of the conv layers followed by a 2×2 max-pool.</param>
    /// <param name="hidden">Widths of the hidden fully connected layers.</param>
    public CifarConvNet(string name, InputShape input, long[] filters, int kernel, int[] poolAfter, long[] hidden, double width = 1.0) : base(name)
    {
        var f = Sequential();
        long inCh = input.Channels;
        for (var i = 0; i < filters.Length; i++)
        {
            var outCh = ModelScaling.Channels(filters[i], width);
            f.append($"conv{i + 1}", Layer.Conv2d(inCh, outCh, kernel, padding: kernel / 2, hasBias: false));
            f.append($"bn{i + 1}", Layer.BatchNorm2d(outCh));
            f.append($"relu{i + 1}", torch.nn.ReLU());
            if (poolAfter.Contains(i + 1))
                f.append($"pool{i + 1}", torch.nn.MaxPool2d(2));
            inCh = outCh;
        }
        features = f;
        register_module("features", features);

        var c = Sequential(("flatten", Flatten()));
        var inFeatures = FeatureSize.Of(features, input);
        for (var i = 0; i < hidden.Length; i++)
        {
            var h = ModelScaling.Channels(hidden[i], width);
            c.append($"fc{i + 1}", Layer.Linear(inFeatures, h));
            c.append($"fc{i + 1}_relu", torch.nn.ReLU());
            inFeatures = h;
        }
        c.append("classifier", Layer.Linear(inFeatures, input.Classes));
        classifier = c;
        register_module("classifier", classifier);
    }

    /// <summary>Teacher: eight 3×3 convs 76-76-126-126-148-148-148-148, pools after 1, 3, 7, FC 1200-1200.</summary>
    public static CifarConvNet Teacher(InputShape input, double width = 1.0) =>
        new("cifar-teacher", input, [76, 76, 126, 126, 148, 148, 148, 148], 3, [1, 3, 7], [1200, 1200], width);

    /// <summary>Student 1: 5×5 convs 75-50-50-25, pools after 1 and 3, FC 500.</summary>
    public static CifarConvNet Student1(InputShape input, double width = 1.0) =>
        new("cifar-student-1", input, [75, 50, 50, 25], 5, [1, 3], [500], width);

    /// <summary>Student 2: 5×5 convs 50-25-25-10, FC 400.</summary>
    public static CifarConvNet Student2(InputShape input, double width = 1.0) =>
        new("cifar-student-2", input, [50, 25, 25, 10], 5, [1, 3], [400], width);

    /// <summary>Student 3: 5×5 convs 25-10-10-5, FC 300.</summary>
    public static CifarConvNet Student3(InputShape input, double width = 1.0) =>
        new("cifar-student-3", input, [25, 10, 10, 5], 5, [1, 3], [300], width);

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(classifier.call(features.call(input)));
    }
}
