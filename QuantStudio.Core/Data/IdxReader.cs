using System.Buffers.Binary;
using System.IO.Compression;

namespace QuantStudio.Core.Data;

/// <summary>An idx array of unsigned bytes: dimensions and row-major data.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads the idx format of MNIST and Fashion-MNIST (big-endian header: two zero bytes, the element
/// type, the number of dimensions, then one int32 per dimension), gzipped or not.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    public static IdxArray Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var stream = CompressedFiles.OpenMaybeGzip(file);
            return Read(stream, path);
        }
        catch (InvalidDataException ex)
        {
            throw new DatasetFileException($"'{path}' is corrupt: it starts like a gzip file but does not decompress ({ex.Message})", path, ex);
        }
    }

    public static IdxArray Read(Stream stream, string name)
    {
        Span<byte> head = stackalloc byte[4];
        if (ReadFully(stream, head) < 4)
            throw Corrupt(name, "it is shorter than an idx header");
        if (head[0] != 0 || head[1] != 0)
            throw Corrupt(name, $"its magic number 0x{head[0]:x2}{head[1]:x2}{head[2]:x2}{head[3]:x2} does not start with two zero bytes, so it is not an idx file");
        if (head[2] != UnsignedByteType)
            throw Corrupt(name, $"its element type is 0x{head[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = head[3];
        if (rank is < 1 or > 4)
            throw Corrupt(name, $"it claims {rank} dimensions (expected 1 to 4)");
        Span<byte> dimsBytes = stackalloc byte[4 * rank];
        if (ReadFully(stream, dimsBytes) < dimsBytes.Length)
            throw Corrupt(name, "its header is truncated");
        var dims = new int[rank];
        long total = 1;
        for (var i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimsBytes.Slice(4 * i, 4));
            if (dims[i] < 0)
                throw Corrupt(name, $"dimension {i} is negative ({dims[i]})");
            total *= dims[i];
        }
        if (total > Array.MaxLength)
            throw Corrupt(name, $"its header declares {total} elements, more than fit in memory");
        var data = new byte[total];
        var got = ReadFully(stream, data);
        if (got < total)
            throw Corrupt(name, $"it is truncated: the header declares {string.Join("×", dims)} = {total} bytes of data but only {got} follow");
        if (stream.ReadByte() != -1)
            throw Corrupt(name, $"it has bytes after the {string.Join("×", dims)} elements its header declares");
        return new IdxArray(dims, data);
    }

    private static DatasetFileException Corrupt(string name, string problem) =>
        new($"'{name}' is not a valid idx file: {problem}. Replace it with the original file (see docs/datasets.md), or delete it and set dataset.download to true.", name);

    internal static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}

internal static class CompressedFiles
{
    /// <summary>Wraps <paramref name="file"/> in a gzip decoder when it starts with the gzip magic (1f 8b), whatever its name.</summary>
    public static Stream OpenMaybeGzip(FileStream file)
    {
        var b0 = file.ReadByte();
        var b1 = file.ReadByte();
        file.Position = 0;
        Stream buffered = new BufferedStream(file, 1 << 16);
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(buffered, CompressionMode.Decompress) : buffered;
    }
}
