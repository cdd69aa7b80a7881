namespace QuantStudio.Core.Compression;

/// <summary>How a tensor's codes are stored.</summary>
public enum CodeEncoding : byte
{
    /// <summary>b bits per code, see <see cref="BitPacker"/>.</summary>
    Packed = 0,

    /// <summary>Canonical Huffman, see <see cref="HuffmanCode"/>; the table stores one length byte per symbol of the 2^b alphabet.</summary>
    Huffman = 1,
}

/// <summary>
/// One tensor's codes in both encodings, with their exact byte counts, so size reports and
/// file writers (.qsw, and checkpoints that embed the same blocks) use the same numbers.
/// </summary>
public sealed class EncodedCodes
{
    private EncodedCodes(int bits, long count, byte[] packed, HuffmanCode huffman, byte[] huffmanStream, long huffmanBits)
    {
        Bits = bits;
        Count = count;
        Packed = packed;
        Huffman = huffman;
        HuffmanStream = huffmanStream;
        HuffmanBits = huffmanBits;
    }

    public int Bits { get; }
    public long Count { get; }
    public byte[] Packed { get; }
    public HuffmanCode Huffman { get; }
    public byte[] HuffmanStream { get; }
    public long HuffmanBits { get; }

    /// <summary>Bytes of the Huffman code table: one code length per symbol of the 2^b alphabet.</summary>
    public long HuffmanTableBytes => 1L << Bits;

    /// <summary>Mean Huffman code length in bits per code (0 for an empty tensor).</summary>
    public double HuffmanMeanBits => Count == 0 ? 0 : (double)HuffmanBits / Count;

    public long PackedCodeBytes => Packed.LongLength;
    public long HuffmanCodeBytes => HuffmanTableBytes + HuffmanStream.LongLength;

    /// <summary>The smaller of the two; packed wins ties (it is faster to read).</summary>
    public CodeEncoding Smaller => HuffmanCodeBytes < PackedCodeBytes ? CodeEncoding.Huffman : CodeEncoding.Packed;

    public static EncodedCodes Encode(ReadOnlySpan<byte> codes, int bits)
    {
        var packed = BitPacker.Pack(codes, bits);
        var frequencies = HuffmanCode.Frequencies(codes, 1 << bits);
        var huffman = HuffmanCode.FromFrequencies(frequencies);
        var (stream, bitCount) = huffman.Encode(codes);
        return new EncodedCodes(bits, codes.Length, packed, huffman, stream, bitCount);
    }
}
