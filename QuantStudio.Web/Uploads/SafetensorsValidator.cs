using System.Buffers.Binary;
using System.Text.Json;

namespace QuantStudio.Web.Uploads;

/// <summary>
/// Checks that a file is a well-formed safetensors file before it is stored: an 8-byte little-endian
/// header length, a JSON object header, and for every tensor a known dtype, a shape, and data offsets
/// that match the shape and tile the data section exactly (no overlaps, no holes, nothing past the end).
/// </summary>
public static class SafetensorsValidator
{
    /// <summary>The format's own limit on the header size.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private static readonly Dictionary<string, int> DtypeBytes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    public sealed record Result(bool Ok, string? Error, int TensorCount, long DataBytes)
    {
        public static Result Fail(string error) => new(false, error, 0, 0);
    }

    public static Result Validate(Stream stream)
    {
        var length = stream.Length;
        if (length < 8)
            return Result.Fail("the file is shorter than the 8-byte safetensors header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength == 0 || headerLength > (ulong)MaxHeaderBytes || (long)headerLength > length - 8)
            return Result.Fail($"the header length {headerLength} does not fit the file ({length} bytes)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataBytes = length - 8 - (long)headerLength;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            return Result.Fail("the header is not valid JSON: " + ex.Message);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return Result.Fail("the header is not a JSON object");
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object || p.Value.EnumerateObject().Any(m => m.Value.ValueKind != JsonValueKind.String))
                        return Result.Fail("__metadata__ must map strings to strings");
                    continue;
                }
                var error = CheckTensor(p.Name, p.Value, dataBytes, out var begin, out var end);
                if (error is not null)
                    return Result.Fail(error);
                ranges.Add((begin, end, p.Name));
            }
            ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach (var (begin, end, name) in ranges)
            {
                if (begin != expected)
                    return Result.Fail($"tensor '{name}' starts at {begin}, expected {expected}: the data section has a hole or an overlap");
                expected = end;
            }
            if (expected != dataBytes)
                return Result.Fail($"the tensors cover {expected} bytes but the data section holds {dataBytes}");
            return new Result(true, null, ranges.Count, dataBytes);
        }
    }

    private static string? CheckTensor(string name, JsonElement t, long dataBytes, out long begin, out long end)
    {
        begin = end = 0;
        if (t.ValueKind != JsonValueKind.Object)
            return $"tensor '{name}' is not an object";
        if (!t.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String || !DtypeBytes.TryGetValue(dtype.GetString()!, out var size))
            return $"tensor '{name}' has no known dtype";
        if (!t.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
            return $"tensor '{name}' has no shape";
        long elements = 1;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                return $"tensor '{name}' has an invalid dimension";
            try
            {
                elements = checked(elements * dim);
            }
            catch (OverflowException)
            {
                return $"tensor '{name}' is too large";
            }
        }
        if (!t.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2 ||
            !offsets[0].TryGetInt64(out begin) || !offsets[1].TryGetInt64(out end))
            return $"tensor '{name}' has no data_offsets [begin, end]";
        if (begin < 0 || end < begin || end > dataBytes)
            return $"tensor '{name}' has data_offsets [{begin}, {end}] outside the data section ({dataBytes} bytes)";
        if (end - begin != elements * size)
            return $"tensor '{name}' has {end - begin} bytes of data but its shape and dtype need {elements * size}";
        return null;
    }
}
