namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// How <see cref="CompressedCheckpoint.Save"/> stores one state_dict entry. Save always receives
/// full-precision weights and quantizes them itself, deterministically, so the file holds exactly
/// the codes the method's quantizer would produce and loading reproduces its values bit for bit.
/// </summary>
public abstract record TensorEncoding;

/// <summary>
/// The bucketed quantizer of Polino et al. (2018): <paramref name="Scheme"/> "uniform" (min–max per
/// bucket) or "absmax" (sign kept apart), round to nearest. A null bucket size scales the whole tensor.
/// </summary>
public sealed record UniformEncoding(int Bits, int? BucketSize, string Scheme) : TensorEncoding;

/// <summary>
/// Differentiable quantization's learned points: sorted values in [0, 1] compared with the weights
/// after bucketed min–max scaling; each weight goes to its nearest point and comes back as p·α + β.
/// </summary>
public sealed record PointsEncoding(float[] Points, int? BucketSize) : TensorEncoding;

/// <summary>
/// A learned-step (LSQ / QKD) weight quantizer: signed codes round(clip(w/s, −2^(b−1), 2^(b−1)−1)),
/// values code·s.
/// </summary>
public sealed record LsqEncoding(int Bits, float Step) : TensorEncoding;

/// <summary>Kept as float32 (the default for every entry that has no encoding).</summary>
public sealed record FullPrecisionEncoding : TensorEncoding;

/// <summary>
/// How quantized codes are written; the figures in <see cref="CompressedCheckpointInfo"/> cover both
/// encodings either way. Packed is the default: the file then is exactly packed_bytes plus the
/// unquantized tensors plus the header, the size a run reports. Huffman coding trained (bell-shaped)
/// weights saves another 5–15%, which makes the file that much smaller than that figure.
/// </summary>
public enum CodeEncodingPolicy
{
    /// <summary>Always b bits per code.</summary>
    Packed = 0,

    /// <summary>Per tensor, whichever of packed and Huffman is smaller (packed wins ties), as in .qsw files: the smallest file.</summary>
    Smaller = 1,

    /// <summary>Always canonical Huffman.</summary>
    Huffman = 2,
}
