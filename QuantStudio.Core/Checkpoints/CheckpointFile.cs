using System.Buffers.Binary;
using System.Security.Cryptography;
using QuantStudio.Core.Compression;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// The byte layout of a compressed checkpoint (.qsc): a 20-byte fixed header (magic "QSCF", u16
/// version, u16 flags, u64 file length, u32 description length), the UTF-8 JSON description, a u32
/// block count, the tensor blocks, and the SHA-256 of everything before it. Little-endian
/// throughout; docs/compressed-checkpoint-format.md has it byte by byte.
/// </summary>
internal static class CheckpointFile
{
    public static ReadOnlySpan<byte> Magic => "QSCF"u8;
    public const ushort Version = 1;
    public const int FixedHeaderBytes = 4 + 2 + 2 + 8 + 4;
    public const int ChecksumBytes = 32;
    private const int LengthOffset = 8;

    public static byte[] Serialize(byte[] description, IReadOnlyCollection<QswBlock> blocks)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((ushort)0);
            w.Write(0UL); // file length, patched below once known
            w.Write((uint)description.Length);
            w.Write(description);
            w.Write((uint)blocks.Count);
            foreach (var b in blocks)
                b.Write(w);
        }
        var content = stream.Length;
        var file = new byte[content + ChecksumBytes];
        stream.GetBuffer().AsSpan(0, (int)content).CopyTo(file);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(LengthOffset), (ulong)file.LongLength);
        SHA256.HashData(file.AsSpan(0, (int)content), file.AsSpan((int)content));
        return file;
    }

    /// <summary>Checks magic, version, length and checksum, then reads the description and the blocks.</summary>
    public static (CheckpointHeader Header, List<QswBlock> Blocks) Parse(byte[] data)
    {
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            if (data.Length < Magic.Length && Magic.StartsWith(data))
                throw new CompressedCheckpointFormatException($"truncated: the file has {data.Length} bytes, fewer than the {FixedHeaderBytes}-byte header");
            throw new CompressedCheckpointFormatException("bad magic: not a compressed checkpoint (the file does not start with \"QSCF\")");
        }
        if (data.Length < FixedHeaderBytes)
            throw new CompressedCheckpointFormatException($"truncated: the file has {data.Length} bytes, fewer than the {FixedHeaderBytes}-byte header");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(4));
        if (version != Version)
            throw new CompressedCheckpointFormatException($"unsupported version: the file has format version {version}; this reader knows version {Version}");
        var declared = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(LengthOffset));
        if ((ulong)data.LongLength < declared)
            throw new CompressedCheckpointFormatException($"truncated: the file has {data.LongLength} bytes but its header declares {declared}");
        if ((ulong)data.LongLength > declared)
            throw new CompressedCheckpointFormatException($"trailing data: the file has {data.LongLength} bytes but its header declares {declared}");
        if (data.Length < FixedHeaderBytes + 4 + ChecksumBytes)
            throw new CompressedCheckpointFormatException($"truncated: {data.Length} bytes cannot hold a header, a block count and a checksum");

        var content = data.Length - ChecksumBytes;
        var actual = SHA256.HashData(data.AsSpan(0, content));
        if (!actual.AsSpan().SequenceEqual(data.AsSpan(content)))
            throw new CompressedCheckpointFormatException(
                $"checksum mismatch: the content's SHA-256 is {Convert.ToHexStringLower(actual)} but the file records {Convert.ToHexStringLower(data.AsSpan(content))} (the file is corrupt)");

        try
        {
            // Only the checksummed content is parsed; the reader stops at the checksum.
            var r = new ByteReader(data[..content]);
            r.Take(FixedHeaderBytes - 4, "fixed header");
            var headerLength = r.U32("description length");
            var header = CheckpointHeader.Parse(r.Take(headerLength, "description"));
            var count = r.U32("block count");
            var blocks = new List<QswBlock>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var block = ReadBlock(r, i);
                if (!names.Add(block.Name))
                    throw new CompressedCheckpointFormatException($"tensor '{block.Name}': appears twice");
                blocks.Add(block);
            }
            if (r.Remaining != 0)
                throw new CompressedCheckpointFormatException($"{r.Remaining} bytes between the last of {count} tensors and the checksum");
            return (header, blocks);
        }
        catch (QswFormatException e)
        {
            throw new CompressedCheckpointFormatException(e.Message, e);
        }
    }

    private static QswBlock ReadBlock(ByteReader r, int index)
    {
        var (kind, name, shape, count) = QswBlock.ReadHeader(r, index);
        return kind switch
        {
            QswBlock.KindQuantized => QuantizedBlock.ReadBody(r, name, shape, count),
            QswBlock.KindRaw => RawBlock.ReadBody(r, name, shape, count),
            PointsBlock.KindPoints => PointsBlock.ReadBody(r, name, shape, count),
            LsqBlock.KindLsq => LsqBlock.ReadBody(r, name, shape, count),
            _ => throw new CompressedCheckpointFormatException(
                $"tensor '{name}': kind is {kind}; allowed: 0 (quantized), 1 (raw), 2 (points), 3 (lsq)"),
        };
    }
}
