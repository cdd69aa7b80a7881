using System.Text;

namespace QuantStudio.Core.Compression;

/// <summary>
/// The packed-weights file (.qsw): magic "QSWF", u16 version, u16 flags, u32 block count, then
/// the blocks (see docs/packed-weights-format.md). Everything little-endian.
/// </summary>
public static class QswFile
{
    public static ReadOnlySpan<byte> Magic => "QSWF"u8;
    public const ushort Version = 1;
    public const int HeaderBytes = 4 + 2 + 2 + 4;

    public static long SerializedSize(IReadOnlyCollection<QswBlock> blocks) => HeaderBytes + blocks.Sum(b => b.SerializedSize);

    public static void Write(string path, IReadOnlyCollection<QswBlock> blocks)
    {
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
            Write(stream, blocks);
        File.Move(temp, path, overwrite: true);
    }

    public static void Write(Stream stream, IReadOnlyCollection<QswBlock> blocks)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write((ushort)0);
        w.Write((uint)blocks.Count);
        foreach (var b in blocks)
            b.Write(w);
    }

    public static List<QswBlock> Read(string path)
    {
        var length = new FileInfo(path).Length; // FileNotFoundException for a missing file
        if (length > Array.MaxLength)
            throw new QswFormatException($"file: {length} bytes is larger than this reader supports");
        return Read(File.ReadAllBytes(path));
    }

    public static List<QswBlock> Read(byte[] data)
    {
        var r = new ByteReader(data);
        if (data.Length < HeaderBytes || !data.AsSpan(0, 4).SequenceEqual(Magic))
            throw new QswFormatException("header: not a packed-weights file (magic \"QSWF\" missing)");
        r.Take(4, "magic");
        var version = r.U16("version");
        if (version != Version)
            throw new QswFormatException($"header: version {version} is not supported (this reader knows {Version})");
        r.U16("flags");
        var count = r.U32("block count");
        var blocks = new List<QswBlock>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var block = QswBlock.Read(r, i);
            if (!names.Add(block.Name))
                throw new QswFormatException($"tensor '{block.Name}': appears twice");
            blocks.Add(block);
        }
        if (r.Remaining != 0)
            throw new QswFormatException($"file: {r.Remaining} bytes after the last of {count} tensors");
        return blocks;
    }
}
