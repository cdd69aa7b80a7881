using QuantStudio.Core.Compression;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// Sizes of a compressed checkpoint. The file is made of exactly three parts:
/// <see cref="FileBytes"/> = <see cref="StoredBytes"/> (quantized tensors as written) +
/// <see cref="FullPrecisionBytes"/> (tensors kept as they are) + <see cref="HeaderBytes"/> (everything
/// else: file header, JSON description, per-tensor block headers, checksum).
/// </summary>
/// <param name="FileBytes">Exact size of the file.</param>
/// <param name="Fp32Bytes">The whole model as float32: 4 bytes per element of every floating-point tensor.</param>
/// <param name="PackedBytes">Quantized tensors with b-bit packed codes plus their scales, points or steps (as in .qsw size reports).</param>
/// <param name="HuffmanBytes">The same with Huffman-coded codes (code table included).</param>
/// <param name="FullPrecisionBytes">Data of the tensors stored unquantized: float32 tensors and integer buffers.</param>
/// <param name="HeaderBytes">Everything that is not tensor data.</param>
public sealed record CompressedCheckpointInfo(long FileBytes, long Fp32Bytes, long PackedBytes, long HuffmanBytes, long FullPrecisionBytes, long HeaderBytes)
{
    /// <summary>What the quantized tensors cost in the file, with the encoding chosen per tensor.</summary>
    public long StoredBytes { get; init; }

    public IReadOnlyList<CheckpointTensorInfo> Tensors { get; init; } = [];

    /// <summary>The size the file would have with every quantized tensor packed: packed + full precision + header.</summary>
    public long PackedFileBytes => PackedBytes + FullPrecisionBytes + HeaderBytes;

    /// <summary>(file − (packed + full precision + header)) / file: 0 when codes are packed, negative when Huffman coding saved bytes.</summary>
    public double DifferenceFromPacked => FileBytes == 0 ? 0 : (double)(FileBytes - PackedFileBytes) / FileBytes;

    /// <summary>The model's float32 size over the file size.</summary>
    public double CompressionRatio => FileBytes == 0 ? 1 : (double)Fp32Bytes / FileBytes;

    public long QuantizedElements => Tensors.Where(t => t.Sizes is not null).Sum(t => t.Count);

    /// <summary>Stored bits per quantized weight, scales included.</summary>
    public double BitsPerQuantizedWeight => QuantizedElements == 0 ? 0 : 8.0 * StoredBytes / QuantizedElements;
}

/// <summary>One stored tensor.</summary>
/// <param name="Kind">"uniform", "absmax", "points", "lsq", "fp32" or "raw" (integer buffers).</param>
/// <param name="Sizes">Packed and Huffman figures of a quantized tensor; null for tensors stored as they are.</param>
/// <param name="Encoding">How a quantized tensor's codes are written; null for the others.</param>
/// <param name="BlockBytes">The whole block in the file, header included.</param>
public sealed record CheckpointTensorInfo(string Name, long[] Shape, string Kind, int? Bits, TensorSizes? Sizes, CodeEncoding? Encoding, long DataBytes, long BlockBytes)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}
