using System.Buffers.Binary;
using System.Text;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

public class SafetensorsTests
{
    // A file assembled byte by byte: length prefix, JSON header, raw data.
    private static byte[] File(string json, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    private static SafetensorsFormatException Corrupt(byte[] file) =>
        Assert.Throws<SafetensorsFormatException>(() => Safetensors.Deserialize(file).Dispose());

    [Fact]
    public void Reads_a_hand_built_file_in_data_order_with_metadata()
    {
        var data = Floats(1.5f, -2f, 3f).Concat(new byte[] { 7, 0, 0, 0, 0, 0, 0, 0 }).ToArray();
        // Header keys deliberately out of data order: the reader orders by offset.
        var json = """{"b":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""";
        using var content = Safetensors.Deserialize(File(json, data));
        Assert.Equal(["a", "b"], content.Tensors.Keys);
        Assert.Equal(new[] { 1.5f, -2f, 3f }, content.Tensors["a"].data<float>().ToArray());
        Assert.Equal(new[] { 7L }, content.Tensors["b"].data<long>().ToArray());
        Assert.Equal("pt", content.Metadata["format"]);
    }

    [Fact]
    public void Round_trips_every_dtype_shape_and_the_metadata()
    {
        using var scope = torch.NewDisposeScope();
        var f32 = torch.randn(3, 4);
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["w.f32"] = f32,
            ["w.f64"] = torch.tensor(new[] { 1e-300, -2.5 }),
            ["w.bf16"] = f32.to_type(ScalarType.BFloat16),
            ["w.f16"] = torch.tensor(new[] { (Half)0.5, (Half)(-3) }),
            ["i64"] = torch.tensor(new[] { long.MinValue, 5L }),
            ["i32"] = torch.tensor(new[] { int.MaxValue }, [1, 1, 1]),
            ["u8"] = torch.tensor(new byte[] { 0, 200 }),
            ["mask"] = torch.tensor(new[] { true, false, true }),
            ["scalar"] = torch.tensor(2.0),
            ["empty"] = torch.zeros([0, 5]),
        };
        var bytes = Safetensors.Serialize(tensors, new Dictionary<string, string> { ["note"] = "x" });
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + headerLength) % 8);

        using var back = Safetensors.Deserialize(bytes);
        Assert.Equal(tensors.Keys, back.Tensors.Keys);
        Assert.Equal("x", back.Metadata["note"]);
        foreach (var (name, t) in tensors)
        {
            var r = back.Tensors[name];
            Assert.Equal(t.dtype, r.dtype);
            Assert.Equal(t.shape, r.shape);
            using var eq = t.to_type(ScalarType.Float64).eq(r.to_type(ScalarType.Float64)).all();
            Assert.True(eq.item<bool>(), $"{name} differs after the round trip");
        }
    }

    [Fact]
    public void Save_and_Load_go_through_the_file_system()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var t = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
            Safetensors.Save(path, [new("w", t)]);
            var loaded = Safetensors.Load(path);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, loaded["w"].data<float>().ToArray());
            Assert.Equal([2L, 3L], loaded["w"].shape);
            loaded["w"].Dispose();
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void Rejects_a_file_shorter_than_the_length_prefix() =>
        Assert.Contains("too short", Corrupt([1, 2, 3]).Message);

    [Fact]
    public void Rejects_a_header_length_beyond_the_file()
    {
        var bytes = File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", Floats(1));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 5000);
        Assert.Contains("header length", Corrupt(bytes).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.Contains("header length", Corrupt(bytes).Message);
    }

    [Fact]
    public void Rejects_a_header_that_is_not_json()
    {
        Assert.Contains("must start with '{'", Corrupt(File("PK\u0003\u0004zipfile", [])).Message);
        Assert.Contains("not well-formed JSON", Corrupt(File("""{"a":{"dtype":"F32",""", [])).Message);
        Assert.Contains("must be an object", Corrupt(File("""{"a":[1,2]}""", [])).Message);
    }

    [Fact]
    public void Rejects_unknown_dtypes_naming_the_tensor_and_the_allowed_names()
    {
        var e = Corrupt(File("""{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", [0]));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("dtype", e.Message);
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void Rejects_a_byte_count_that_disagrees_with_the_shape()
    {
        var e = Corrupt(File("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", Floats(1, 2, 3)));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 16", e.Message);
    }

    [Fact]
    public void Rejects_gaps_overlaps_and_a_first_offset_other_than_zero()
    {
        var data = Floats(1, 2, 3, 4);
        Assert.Contains("gap", Corrupt(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", data)).Message);
        Assert.Contains("overlap", Corrupt(File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", data)).Message);
        Assert.Contains("must begin at 0", Corrupt(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", Floats(1, 2))).Message);
        Assert.Contains("end 0 before begin 4", Corrupt(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", Floats(1))).Message);
    }

    [Fact]
    public void Rejects_truncated_data_and_trailing_bytes()
    {
        var json = """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        var truncated = Corrupt(File(json, Floats(1, 2, 3)));
        Assert.Contains("truncated", truncated.Message);
        Assert.Contains("'w'", truncated.Message);
        Assert.Contains("cover only 16", Corrupt(File(json, Floats(1, 2, 3, 4, 5))).Message);
    }

    [Fact]
    public void Rejects_bad_shapes_offsets_duplicates_and_metadata()
    {
        Assert.Contains("non-negative integers", Corrupt(File("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}""", [])).Message);
        Assert.Contains("'shape'", Corrupt(File("""{"w":{"dtype":"F32","data_offsets":[0,0]}}""", [])).Message);
        Assert.Contains("'data_offsets'", Corrupt(File("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", Floats(1))).Message);
        Assert.Contains("appears twice", Corrupt(File("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", Floats(1, 2))).Message);
        Assert.Contains("__metadata__", Corrupt(File("""{"__metadata__":{"n":3}}""", [])).Message);
        Assert.Contains("too large", Corrupt(File("""{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", [])).Message);
    }

    [Fact]
    public void Writer_refuses_reserved_and_duplicate_names()
    {
        using var t = torch.ones(1);
        Assert.Throws<ArgumentException>(() => Safetensors.Serialize([new("__metadata__", t)]));
        Assert.Throws<ArgumentException>(() => Safetensors.Serialize([new("a", t), new("a", t)]));
    }
}
