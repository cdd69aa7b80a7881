using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>
/// LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling: conv 6@5×5 (padded, so 28×28 MNIST keeps
/// the classic 32×32 geometry) → pool → conv 16@5×5 → pool → FC 120 → FC 84 → classes.
/// </summary>
public sealed class LeNet5 : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Sequential classifier;

    public LeNet5(InputShape input, double width = 1.0) : base("lenet5")
    {
        long c1 = ModelScaling.Channels(6, width), c2 = ModelScaling.Channels(16, width);
        long f1 = ModelScaling.Channels(120, width), f2 = ModelScaling.Channels(84, width);
        features = this.Registered("features", Sequential(
            ("conv1", Layer.Conv2d(input.Channels, c1, 5, padding: 2)),
            ("relu1", torch.nn.ReLU()),
            ("pool1", torch.nn.MaxPool2d(2)),
            ("conv2", Layer.Conv2d(c1, c2, 5)),
            ("relu2", torch.nn.ReLU()),
            ("pool2", torch.nn.MaxPool2d(2))));
        var flat = FeatureSize.Of(features, input);
        classifier = this.Registered("classifier", Sequential(
            ("flatten", Flatten()),
            ("fc1", Layer.Linear(flat, f1)),
            ("relu3", torch.nn.ReLU()),
            ("fc2", Layer.Linear(f1, f2)),
            ("relu4", torch.nn.ReLU()),
            ("fc3", Layer.Linear(f2, input.Classes))));
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(classifier.call(features.call(input)));
    }
}
