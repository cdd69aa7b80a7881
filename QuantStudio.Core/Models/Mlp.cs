using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>A multi-layer perceptron over flattened input: (Linear → ReLU) × depth, then a classifier.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public Mlp(InputShape input, long hidden = 256, int layers = 2) : base("mlp")
    {
        var seq = Sequential(("flatten", Flatten()));
        long inFeatures = (long)input.Channels * input.Height * input.Width;
        for (var i = 0; i < layers; i++)
        {
            seq.append($"fc{i + 1}", Layer.Linear(inFeatures, hidden));
            seq.append($"relu{i + 1}", torch.nn.ReLU());
            inFeatures = hidden;
        }
        seq.append("classifier", Layer.Linear(inFeatures, input.Classes));
        body = seq;
        register_module("body", body);
    }

    public override Tensor forward(Tensor input) => body.call(input);
}
