namespace QuantStudio.Core.Compression;

/// <summary>
/// The codes section of a block, packed or Huffman coded (see docs/packed-weights-format.md).
/// Shared by the .qsw quantized block and the compressed checkpoint's point and LSQ blocks, so
/// every file stores codes the same way.
/// </summary>
internal static class CodePayload
{
    /// <summary>Bytes <see cref="Write"/> produces: a u64 length and the packed bytes, or the code table, a u64 bit length and the stream.</summary>
    public static long Size(EncodedCodes encoded, CodeEncoding encoding) =>
        encoding == CodeEncoding.Packed
            ? 8 + encoded.PackedCodeBytes
            : encoded.HuffmanTableBytes + 8 + encoded.HuffmanStream.LongLength;

    public static void Write(BinaryWriter w, EncodedCodes encoded, CodeEncoding encoding)
    {
        if (encoding == CodeEncoding.Packed)
        {
            w.Write((ulong)encoded.Packed.LongLength);
            w.Write(encoded.Packed);
        }
        else
        {
            w.Write(encoded.Huffman.Lengths);
            w.Write((ulong)encoded.HuffmanBits);
            w.Write(encoded.HuffmanStream);
        }
    }

    /// <summary>Reads and decodes <paramref name="count"/> codes of <paramref name="bits"/> bits; <paramref name="field"/> prefixes error messages.</summary>
    public static byte[] Read(ByteReader r, CodeEncoding encoding, int bits, long count, Func<string, string> field)
    {
        if (encoding == CodeEncoding.Packed)
        {
            var length = r.Length(field("packed length"));
            if (length != BitPacker.PackedLength(count, bits))
                throw new QswFormatException(field($"packed length is {length} bytes but {count} codes of {bits} bits need {BitPacker.PackedLength(count, bits)}"));
            return BitPacker.Unpack(r.Take(length, field("packed codes")), bits, count);
        }

        HuffmanCode code;
        try
        {
            code = HuffmanCode.FromLengths(r.Take(1 << bits, field("huffman code lengths")));
        }
        catch (ArgumentException e)
        {
            throw new QswFormatException(field(e.Message));
        }
        var bitCount = r.U64(field("huffman bit length"));
        if (bitCount > (ulong)r.Remaining * 8)
            throw new QswFormatException(field($"huffman bit length {bitCount} exceeds the {r.Remaining} bytes left in the file (truncated file?)"));
        var stream = r.Take(((long)bitCount + 7) / 8, field("huffman stream"));
        try
        {
            return code.Decode(stream, (long)bitCount, count);
        }
        catch (FormatException e)
        {
            throw new QswFormatException(field(e.Message));
        }
    }

    /// <summary>The encoding byte of a block, checked.</summary>
    public static CodeEncoding ReadEncoding(ByteReader r, Func<string, string> field)
    {
        var value = r.U8(field("encoding"));
        if (value > 1)
            throw new QswFormatException(field($"encoding is {value}; allowed 0 (packed), 1 (huffman)"));
        return (CodeEncoding)value;
    }
}
