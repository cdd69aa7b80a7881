using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// A model rebuilt from a compressed checkpoint, holding the dequantized weights and the file's
/// activation quantizers (hooks on its layers, which stay with <see cref="Model"/> for as long as it
/// lives), in eval mode. The caller owns <see cref="Model"/>: dispose this (which also removes the
/// quantizers and frees their steps), or dispose the model.
/// </summary>
public sealed class LoadedCompressedModel(Module<Tensor, Tensor> model, CompressedModelDescription description, CompressedCheckpointInfo info,
    ActivationQuantizerHooks activationQuantizers) : IDisposable
{
    public Module<Tensor, Tensor> Model { get; } = model;
    public CompressedModelDescription Description { get; } = description;
    public CompressedCheckpointInfo Info { get; } = info;

    /// <summary>The activation quantizers installed on <see cref="Model"/> (none for methods that do not quantize activations).</summary>
    public ActivationQuantizerHooks ActivationQuantizers { get; } = activationQuantizers;

    public void Dispose()
    {
        ActivationQuantizers.Dispose();
        Model.Dispose();
    }
}
