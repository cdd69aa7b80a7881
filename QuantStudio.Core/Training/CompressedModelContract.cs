using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

// The agreed shape of the compressed checkpoint's inputs. QuantStudio.Core/Checkpoints implements
// the format; until it is part of this build these records live here so the methods can describe
// their result. When Checkpoints/ lands with the same records, delete this block.
namespace QuantStudio.Core.Checkpoints
{
    /// <summary>Per-tensor choice of how a weight is stored.</summary>
    public abstract record TensorEncoding;

    /// <summary>Bucketed uniform quantization of the given fp weight, deterministic rounding (QD, post-training).</summary>
    public sealed record UniformEncoding(int Bits, int? BucketSize, string Scheme) : TensorEncoding;

    /// <summary>Non-uniform points in [0, 1] after bucketed min–max scaling (differentiable quantization).</summary>
    public sealed record PointsEncoding(float[] Points, int? BucketSize) : TensorEncoding;

    /// <summary>Signed LSQ codes round(clip(w/s, −Qn, Qp)) with step s (QKD, QAT).</summary>
    public sealed record LsqEncoding(int Bits, float Step) : TensorEncoding;

    public sealed record FullPrecisionEncoding : TensorEncoding;

    public sealed record CompressedModelDescription(string Arch, double Width, double Depth, InputShape Input, string Dataset,
        Normalization? Normalization, QuantizationSpec Quantization, string Method);
}

namespace QuantStudio.Core.Training
{
    using QuantStudio.Core.Checkpoints;

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
}
