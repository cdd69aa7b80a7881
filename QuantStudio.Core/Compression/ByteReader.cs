using System.Buffers.Binary;
using System.Text;

namespace QuantStudio.Core.Compression;

/// <summary>Little-endian reads from a byte array with bounds checks that say which field ran past the end.</summary>
internal sealed class ByteReader(byte[] data)
{
    public long Position { get; private set; }
    public long Remaining => data.LongLength - Position;

    public ReadOnlySpan<byte> Take(long count, string field)
    {
        if (count < 0 || count > Remaining)
            throw new QswFormatException($"{field}: needs {count} bytes at offset {Position} but only {Remaining} remain (truncated file?)");
        var span = data.AsSpan((int)Position, (int)count);
        Position += count;
        return span;
    }

    public byte U8(string field) => Take(1, field)[0];
    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));
    public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));
    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));
    public long I64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    /// <summary>A length that must fit in what remains of the file.</summary>
    public long Length(string field, long elementSize = 1)
    {
        var n = U64(field);
        if (n > (ulong)Remaining / (ulong)elementSize)
            throw new QswFormatException($"{field}: {n} entries of {elementSize} bytes exceed the {Remaining} bytes left in the file (truncated file?)");
        return (long)n;
    }

    public float[] F32Array(long count, string field)
    {
        var bytes = Take(count * 4, field);
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
        return values;
    }

    public string Utf8(int length, string field)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Take(length, field));
        }
        catch (DecoderFallbackException)
        {
            throw new QswFormatException($"{field}: not valid UTF-8");
        }
    }
}
