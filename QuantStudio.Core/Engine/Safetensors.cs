using System.Buffers.Binary;

using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>The tensors of a safetensors file, in file order, and its <c>__metadata__</c>. Disposing it disposes the tensors.</summary>
public sealed class SafetensorsContent : IDisposable
{
    internal SafetensorsContent(OrderedDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public OrderedDictionary<string, Tensor> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public void Dispose()
    {
        foreach (var t in Tensors.Values)
            t.Dispose();
    }
}

/// <summary>
/// Reads and writes state dicts in the safetensors format: an 8-byte little-endian header
/// length, a JSON header (dtype, shape, data_offsets per tensor, optional <c>__metadata__</c>),
/// then the raw little-endian tensor bytes. Everything read is validated first, so a corrupt or
/// truncated file raises <see cref="SafetensorsFormatException"/> naming the culprit.
/// </summary>
public static class Safetensors
{
    /// <summary>Reads every tensor of <paramref name="path"/> (ordered as stored).</summary>
    public static OrderedDictionary<string, Tensor> Load(string path) => Read(path).Tensors;

    public static SafetensorsContent Read(string path)
    {
        var length = new FileInfo(path).Length; // throws FileNotFoundException for a missing file
        if (length > Array.MaxLength)
            throw new SafetensorsFormatException($"file: {length} bytes is larger than this reader supports ({Array.MaxLength})");
        return Deserialize(File.ReadAllBytes(path));
    }

    /// <summary>Parses a whole safetensors file held in memory.</summary>
    public static SafetensorsContent Deserialize(ReadOnlySpan<byte> file)
    {
        RequireLittleEndianHost();
        if (file.Length < 8)
            throw new SafetensorsFormatException($"file: {file.Length} bytes is too short; a safetensors file starts with an 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength == 0 || headerLength > SafetensorsHeader.MaxHeaderBytes)
            throw new SafetensorsFormatException($"header length: {headerLength} is outside 1..{SafetensorsHeader.MaxHeaderBytes} bytes (not a safetensors file?)");
        if (headerLength > (ulong)(file.Length - 8))
            throw new SafetensorsFormatException($"header length: {headerLength} bytes but only {file.Length - 8} bytes follow (truncated or not a safetensors file)");

        var json = file.Slice(8, (int)headerLength);
        var data = file[(8 + (int)headerLength)..];
        var (entries, metadata) = SafetensorsHeader.Parse(json, data.Length);

        var tensors = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in entries)
            {
                var bytes = data.Slice((int)e.Begin, (int)e.ByteLength);
                var t = empty(e.Shape, e.DType).DetachFromDisposeScope();
                tensors.Add(e.Name, t);
                if (bytes.Length > 0)
                    bytes.CopyTo(t.bytes);
            }
        }
        catch
        {
            foreach (var t in tensors.Values)
                t.Dispose();
            throw;
        }
        return new SafetensorsContent(tensors, metadata);
    }

    /// <summary>Writes <paramref name="tensors"/> in the given order; CPU copies are made of device tensors.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var bytes = Serialize(tensors, metadata);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public static byte[] Serialize(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        RequireLittleEndianHost();
        var list = tensors.ToList();
        var entries = new List<SafetensorsEntry>(list.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"tensor name '{name}' is reserved for metadata", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"tensor name '{name}' appears twice", nameof(tensors));
            var dtype = t.dtype;
            var bytes = t.numel() * t.ElementSize;
            entries.Add(new SafetensorsEntry(name, dtype, t.shape, offset, offset + bytes));
            offset += bytes;
        }

        var header = SafetensorsHeader.Build(entries, metadata);
        var total = 8L + header.Length + offset;
        if (total > Array.MaxLength)
            throw new ArgumentException($"the tensors need {total} bytes, more than this writer supports ({Array.MaxLength})", nameof(tensors));
        var file = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        var dataStart = 8 + header.Length;
        for (var i = 0; i < list.Count; i++)
        {
            var e = entries[i];
            if (e.ByteLength == 0)
                continue;
            using var dense = list[i].Value.detach().cpu().contiguous();
            dense.bytes.CopyTo(file.AsSpan((int)(dataStart + e.Begin), (int)e.ByteLength));
        }
        return file;
    }

    // Tensor bytes are copied as they lie in memory; safetensors is little-endian.
    private static void RequireLittleEndianHost()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors I/O needs a little-endian host");
    }
}
