using QuantStudio.Core.Checkpoints;
using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Core.Training;

/// <summary>What writing model.qsc produced.</summary>
public sealed record CompressedModelFile(string Path, long FileBytes);

/// <summary>
/// Writes a trained student as a compressed checkpoint (model.qsc). The runner calls it once at the
/// end of a run with each quantized tensor's encoding, by state_dict name (missing = full precision).
/// </summary>
public interface ICompressedModelWriter
{
    CompressedModelFile Write(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings);
}

/// <summary>The product's writer: the <c>.qsc</c> format of <see cref="CompressedCheckpoint"/> (docs/compressed-checkpoint-format.md).</summary>
public sealed class QscModelWriter : ICompressedModelWriter
{
    public CompressedModelFile Write(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings)
    {
        var info = CompressedCheckpoint.Save(path, model, description, encodings);
        return new CompressedModelFile(path, info.FileBytes);
    }
}
