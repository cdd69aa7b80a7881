namespace QuantStudio.Core.Compression;

/// <summary>
/// Dense packing of b-bit codes (1 ≤ b ≤ 8) into a little-endian bit stream: code i occupies
/// stream bits [i·b, (i+1)·b), least significant bit first, and stream bit j is bit (j mod 8) of
/// byte j/8. Only the last byte carries padding (zero bits).
/// </summary>
public static class BitPacker
{
    public static long PackedLength(long count, int bits)
    {
        CheckBits(bits);
        return (count * bits + 7) / 8;
    }

    public static byte[] Pack(ReadOnlySpan<byte> codes, int bits)
    {
        var packed = new byte[PackedLength(codes.Length, bits)];
        var limit = 1 << bits;
        ulong buffer = 0;
        var filled = 0;
        var o = 0;
        for (var i = 0; i < codes.Length; i++)
        {
            if (codes[i] >= limit)
                throw new ArgumentOutOfRangeException(nameof(codes), codes[i], $"code {i} does not fit in {bits} bits");
            buffer |= (ulong)codes[i] << filled;
            filled += bits;
            while (filled >= 8)
            {
                packed[o++] = (byte)buffer;
                buffer >>= 8;
                filled -= 8;
            }
        }
        if (filled > 0)
            packed[o] = (byte)buffer;
        return packed;
    }

    public static byte[] Unpack(ReadOnlySpan<byte> packed, int bits, long count)
    {
        if (packed.Length != PackedLength(count, bits))
            throw new ArgumentException($"{count} codes of {bits} bits need {PackedLength(count, bits)} bytes, got {packed.Length}", nameof(packed));
        var codes = new byte[count];
        var mask = (1UL << bits) - 1;
        ulong buffer = 0;
        var filled = 0;
        var p = 0;
        for (var i = 0; i < codes.Length; i++)
        {
            if (filled < bits)
            {
                buffer |= (ulong)packed[p++] << filled;
                filled += 8;
            }
            codes[i] = (byte)(buffer & mask);
            buffer >>= bits;
            filled -= bits;
        }
        return codes;
    }

    private static void CheckBits(int bits)
    {
        if (bits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in 1..8");
    }
}
