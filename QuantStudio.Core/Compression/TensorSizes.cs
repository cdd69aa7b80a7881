namespace QuantStudio.Core.Compression;

/// <summary>
/// Size accounting for one quantized tensor against its fp32 original. Scales (α and, for the
/// uniform scheme, β per bucket) are stored as fp32 and counted in both encodings. For one
/// tensor of n = m·k elements at b bits, PackedBytes = m·(k·b/8 + 8) and the packed ratio is
/// k·32/(k·b + 64), as in Polino et al.; per-tensor headers are not part of these figures.
/// </summary>
public sealed record TensorSizes(string Name, long Count, int Bits, long ScaleBytes, long PackedBytes, long HuffmanBytes, double HuffmanMeanBits)
{
    public long Fp32Bytes => Count * 4;

    /// <summary>What a file stores for this tensor's data: the smaller encoding.</summary>
    public long StoredBytes => Math.Min(PackedBytes, HuffmanBytes);

    public CodeEncoding Encoding => HuffmanBytes < PackedBytes ? CodeEncoding.Huffman : CodeEncoding.Packed;

    /// <summary>fp32 bytes over stored bytes.</summary>
    public double CompressionRatio => StoredBytes == 0 ? 1 : (double)Fp32Bytes / StoredBytes;

    public double PackedCompressionRatio => PackedBytes == 0 ? 1 : (double)Fp32Bytes / PackedBytes;

    /// <summary>Stored bits per weight, scales included.</summary>
    public double BitsPerWeight => Count == 0 ? 0 : 8.0 * StoredBytes / Count;

    public static TensorSizes Of(string name, EncodedCodes codes, long bucketCount, int scalesPerBucket)
    {
        var scaleBytes = bucketCount * scalesPerBucket * sizeof(float);
        return new TensorSizes(name, codes.Count, codes.Bits, scaleBytes,
            codes.PackedCodeBytes + scaleBytes, codes.HuffmanCodeBytes + scaleBytes, codes.HuffmanMeanBits);
    }
}

/// <summary>Totals over a set of tensors.</summary>
public sealed record SizeReport(IReadOnlyList<TensorSizes> Tensors)
{
    public long Count => Tensors.Sum(t => t.Count);
    public long Fp32Bytes => Tensors.Sum(t => t.Fp32Bytes);
    public long PackedBytes => Tensors.Sum(t => t.PackedBytes);
    public long HuffmanBytes => Tensors.Sum(t => t.HuffmanBytes);
    public long StoredBytes => Tensors.Sum(t => t.StoredBytes);

    /// <summary>Mean Huffman code length over all codes.</summary>
    public double HuffmanMeanBits => Count == 0 ? 0 : Tensors.Sum(t => t.HuffmanMeanBits * t.Count) / Count;

    public double CompressionRatio => StoredBytes == 0 ? 1 : (double)Fp32Bytes / StoredBytes;
    public double PackedCompressionRatio => PackedBytes == 0 ? 1 : (double)Fp32Bytes / PackedBytes;
    public double BitsPerWeight => Count == 0 ? 0 : 8.0 * StoredBytes / Count;
}
