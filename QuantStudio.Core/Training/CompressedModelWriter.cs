using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>What writing model.qsc produced.</summary>
public sealed record CompressedModelFile(string Path, long FileBytes, CompressedCheckpointInfo? Info = null);

/// <summary>
/// Writes a trained student as a compressed checkpoint (model.qsc). The runner calls it once at the
/// end of a run with each quantized tensor's encoding, by state_dict name (missing = full precision).
/// </summary>
public interface ICompressedModelWriter
{
    CompressedModelFile Write(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings);
}

/// <summary>The .qsc format of <see cref="CompressedCheckpoint"/> (codes packed).</summary>
public sealed class QscModelWriter : ICompressedModelWriter
{
    public CompressedModelFile Write(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings)
    {
        var info = CompressedCheckpoint.Save(path, model, description, encodings);
        return new CompressedModelFile(path, info.FileBytes, info);
    }
}
