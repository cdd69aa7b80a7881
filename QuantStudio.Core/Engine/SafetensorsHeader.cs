using System.Buffers.Binary;
using System.Text.Json;

using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>One tensor's entry in a safetensors header: offsets are relative to the data section.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// Parses and validates a safetensors header against the size of the data section that follows
/// it. Every rule the format states is checked here, so readers can trust the offsets.
/// </summary>
public static class SafetensorsHeader
{
    /// <summary>Headers above this size are refused, as the reference implementation does.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// The header of the safetensors file in <paramref name="file"/> (a seekable stream), checked against the file's
    /// length, without reading the tensors: a large file costs no memory and no engine call.
    /// </summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata, long DataBytes) Read(Stream file)
    {
        var length = file.Length;
        if (length < 8)
            throw new SafetensorsFormatException("the file is shorter than the 8-byte safetensors header length");
        Span<byte> prefix = stackalloc byte[8];
        file.Position = 0;
        file.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
            throw new SafetensorsFormatException($"the header length {headerLength} does not fit the file ({length} bytes)");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataBytes = length - 8 - (long)headerLength;
        var (entries, metadata) = Parse(header, dataBytes);
        return (entries, metadata, dataBytes);
    }

    /// <summary>Entries sorted by their position in the data section, plus the optional metadata.</summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long dataLength)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new SafetensorsFormatException("header: the JSON header must start with '{'");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException($"header: not well-formed JSON ({e.Message})", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException("header: the JSON header must be an object");

            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new SafetensorsFormatException($"header: the key '{property.Name}' appears twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata);
                else
                    entries.Add(ReadEntry(property.Name, property.Value));
            }

            CheckLayout(entries, dataLength);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException($"{MetadataKey}: must be an object mapping strings to strings");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException($"{MetadataKey}: the value of '{p.Name}' must be a string, not {p.Value.ValueKind}");
            metadata[p.Name] = p.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException($"tensor '{name}': the entry must be an object with dtype, shape and data_offsets");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException($"tensor '{name}': field 'dtype' is missing or not a string");
        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryParse(dtypeName, out var dtype))
            throw new SafetensorsFormatException($"tensor '{name}': field 'dtype' is '{dtypeName}'; allowed: {SafetensorsDType.AllowedNames}");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException($"tensor '{name}': field 'shape' is missing or not an array");
        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var size) || size < 0)
                throw new SafetensorsFormatException($"tensor '{name}': field 'shape' must hold non-negative integers, found {d.GetRawText()}");
            shape[i++] = size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw new SafetensorsFormatException($"tensor '{name}': field 'data_offsets' must be an array [begin, end]");
        var begin = ReadOffset(name, offsetsElement[0]);
        var end = ReadOffset(name, offsetsElement[1]);
        if (end < begin)
            throw new SafetensorsFormatException($"tensor '{name}': field 'data_offsets' has end {end} before begin {begin}");

        long expected;
        try
        {
            long numel = 1;
            foreach (var s in shape)
                numel = checked(numel * s);
            expected = checked(numel * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException($"tensor '{name}': field 'shape' [{string.Join(", ", shape)}] is too large");
        }
        if (end - begin != expected)
            throw new SafetensorsFormatException(
                $"tensor '{name}': data_offsets span {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected}");

        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v) || v < 0)
            throw new SafetensorsFormatException($"tensor '{name}': field 'data_offsets' must hold non-negative integers, found {e.GetRawText()}");
        return v;
    }

    // The data section must be covered exactly: no gaps, no overlaps, nothing past its end.
    private static void CheckLayout(List<SafetensorsEntry> entries, long dataLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long cursor = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < cursor)
                throw new SafetensorsFormatException($"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous}', which ends at {cursor}");
            if (e.Begin > cursor)
                throw new SafetensorsFormatException(
                    previous is null
                        ? $"tensor '{e.Name}': data_offsets begin at {e.Begin}, but the first tensor must begin at 0"
                        : $"tensor '{e.Name}': data_offsets begin at {e.Begin}, leaving a gap after tensor '{previous}', which ends at {cursor}");
            if (e.End > dataLength)
                throw new SafetensorsFormatException($"tensor '{e.Name}': data_offsets end at {e.End} but the file holds only {dataLength} data bytes (truncated?)");
            cursor = e.End;
            previous = e.Name;
        }
        if (cursor != dataLength)
            throw new SafetensorsFormatException($"data: the file holds {dataLength} data bytes but the tensors cover only {cursor}");
    }

    /// <summary>The header JSON for <paramref name="entries"/>, padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] Build(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata)
                    w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", SafetensorsDType.NameOf(e.DType));
                w.WriteStartArray("shape");
                foreach (var s in e.Shape)
                    w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // The data section then starts 8-byte aligned, as the reference writer arranges.
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
