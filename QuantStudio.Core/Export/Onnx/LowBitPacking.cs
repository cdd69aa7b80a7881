using DataType = Onnx.TensorProto.Types.DataType;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>
/// Integer codes laid out as ONNX stores them: 4-bit types two values to a byte, the first in the
/// low nibble (ONNX's INT4/UINT4 raw_data); 8-bit types one to a byte. Codes of up to 4 bits take the
/// 4-bit types; 5 to 8 bits the 8-bit ones (opset 21 has no narrower integer type than 4 bits).
/// </summary>
internal static class LowBitPacking
{
    public static DataType UnsignedType(int bits) => bits <= 4 ? DataType.Uint4 : DataType.Uint8;

    public static DataType SignedType(int bits) => bits <= 4 ? DataType.Int4 : DataType.Int8;

    /// <summary>Unsigned codes (each below 2^bits) in the storage of <see cref="UnsignedType"/>.</summary>
    public static byte[] Unsigned(ReadOnlySpan<byte> codes, int bits)
    {
        if (bits > 4)
            return codes.ToArray();
        var packed = new byte[(codes.Length + 1) / 2];
        for (var i = 0; i < codes.Length; i++)
        {
            if (codes[i] > 15)
                throw new ArgumentException($"code {codes[i]} at {i} does not fit 4 bits", nameof(codes));
            packed[i / 2] |= (byte)(codes[i] << (4 * (i % 2)));
        }
        return packed;
    }

    /// <summary>Signed levels in the storage of <see cref="SignedType"/> (two's complement).</summary>
    public static byte[] Signed(ReadOnlySpan<sbyte> levels, int bits)
    {
        if (bits > 4)
            return levels.ToArray().Select(v => unchecked((byte)v)).ToArray();
        var packed = new byte[(levels.Length + 1) / 2];
        for (var i = 0; i < levels.Length; i++)
        {
            if (levels[i] is < -8 or > 7)
                throw new ArgumentException($"level {levels[i]} at {i} does not fit 4 signed bits", nameof(levels));
            packed[i / 2] |= (byte)((levels[i] & 0xF) << (4 * (i % 2)));
        }
        return packed;
    }
}
