using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// A model rebuilt from a compressed checkpoint, holding the dequantized weights, in eval mode.
/// The caller owns <see cref="Model"/>: dispose it, or dispose this.
/// </summary>
public sealed class LoadedCompressedModel(Module<Tensor, Tensor> model, CompressedModelDescription description, CompressedCheckpointInfo info) : IDisposable
{
    public Module<Tensor, Tensor> Model { get; } = model;
    public CompressedModelDescription Description { get; } = description;
    public CompressedCheckpointInfo Info { get; } = info;

    public void Dispose() => Model.Dispose();
}
