using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>Every way a file can be wrong gives a <see cref="CompressedCheckpointFormatException"/> naming the problem.</summary>
public sealed class CorruptFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-bad-").FullName;
    private readonly string good;

    public CorruptFileTests()
    {
        good = Path.Combine(dir, "good.qsc");
        using var model = Create("lenet5", Mnist);
        CompressedCheckpoint.Save(good, model, Describe("lenet5", Mnist),
            Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 256, "uniform")));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(byte[] data)
    {
        var path = Path.Combine(dir, $"bad-{Guid.NewGuid():N}.qsc");
        File.WriteAllBytes(path, data);
        return path;
    }

    private static string LoadError(string path) => Assert.Throws<CompressedCheckpointFormatException>(() => CompressedCheckpoint.Load(path)).Message;

    /// <summary>Re-seals edited content with a fresh length and checksum, so only the edit itself is wrong.</summary>
    private static byte[] Reseal(byte[] content)
    {
        var file = new byte[content.Length + 32];
        content.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(8), (ulong)file.Length);
        SHA256.HashData(file.AsSpan(0, content.Length), file.AsSpan(content.Length));
        return file;
    }

    [Fact]
    public void The_good_file_loads()
    {
        using var loaded = CompressedCheckpoint.Load(good);
        Assert.Equal("lenet5", loaded.Description.Arch);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.7)]
    [InlineData(0.999)]
    public void A_flipped_byte_is_a_checksum_mismatch(double where)
    {
        var data = File.ReadAllBytes(good);
        var at = (int)(where * (data.Length - 1));
        Assert.True(at >= 20);
        data[at] ^= 0x10;
        Assert.StartsWith("checksum mismatch", LoadError(Write(data)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(5000)]
    public void A_truncated_file_says_so(int cut)
    {
        var data = File.ReadAllBytes(good);
        var message = LoadError(Write(data[..^cut]));
        Assert.StartsWith("truncated", message);
        Assert.Contains($"has {data.Length - cut} bytes but its header declares {data.Length}", message);
    }

    [Fact]
    public void A_file_cut_inside_the_fixed_header_is_truncated()
    {
        var data = File.ReadAllBytes(good);
        Assert.StartsWith("truncated", LoadError(Write(data[..12])));
        Assert.StartsWith("truncated", LoadError(Write(data[..2])));
    }

    [Fact]
    public void Appended_bytes_are_trailing_data()
    {
        var data = File.ReadAllBytes(good);
        Assert.StartsWith("trailing data", LoadError(Write([.. data, 0, 0, 0])));
    }

    [Fact]
    public void A_wrong_magic_is_not_a_checkpoint()
    {
        var data = File.ReadAllBytes(good);
        data[0] = (byte)'X';
        Assert.StartsWith("bad magic", LoadError(Write(data)));
        Assert.StartsWith("bad magic", LoadError(Write(Encoding.UTF8.GetBytes("{\"not\": \"a checkpoint\"}"))));
        // A packed-weights file is a different format.
        var qsw = Path.Combine(dir, "w.qsw");
        QswFile.Write(qsw, [new RawBlock("x", [1], ScalarType.Int64, new byte[8])]);
        Assert.StartsWith("bad magic", LoadError(qsw));
    }

    [Fact]
    public void A_future_version_is_refused_before_anything_else_is_read()
    {
        var data = File.ReadAllBytes(good);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), 2);
        var message = LoadError(Write(data));
        Assert.StartsWith("unsupported version", message);
        Assert.Contains("version 2", message);
    }

    [Fact]
    public void An_unknown_architecture_is_named()
    {
        var data = File.ReadAllBytes(good);
        var content = Edit(data, "\"arch\":\"lenet5\"", "\"arch\":\"lenet9\"");
        var message = LoadError(Write(Reseal(content)));
        Assert.StartsWith("unknown architecture 'lenet9'", message);
    }

    [Fact]
    public void A_description_that_builds_a_different_model_is_a_shape_mismatch()
    {
        var data = File.ReadAllBytes(good);
        // Width 2 doubles every layer of LeNet-5, so the stored tensors no longer fit.
        var content = Edit(data, "\"width\":1,", "\"width\":2,");
        var message = LoadError(Write(Reseal(content)));
        Assert.Contains("shape mismatch: tensor 'features.conv1.weight' is [6, 1, 5, 5] in the file but [12, 1, 5, 5] in lenet5", message);
    }

    [Fact]
    public void A_missing_description_field_is_named()
    {
        var data = File.ReadAllBytes(good);
        var content = Edit(data, "\"method\":", "\"methox\":");
        Assert.Equal("header: field 'method' is missing", LoadError(Write(Reseal(content))));
    }

    [Theory]
    // Checked with the description, before any model is built.
    [InlineData("{\"layer\":\"features.conv2\",\"bits\":9,\"step\":0.1,\"signed\":false}",
        "header: activation_quantizers[0].bits: 9 bits for layer 'features.conv2'; allowed 2..8")]
    [InlineData("{\"layer\":\"features.conv2\",\"bits\":4,\"step\":0,\"signed\":false}",
        "header: activation_quantizers[0].step: step 0 for layer 'features.conv2' is not positive and finite")]
    [InlineData("{\"layer\":\"features.conv2\",\"bits\":4,\"step\":\"NaN\",\"signed\":false}",
        "header: activation_quantizers[0].step: step NaN for layer 'features.conv2' is not positive and finite")]
    [InlineData("{\"layer\":\"features.conv2\",\"bits\":4,\"step\":0.1}", "header: field 'activation_quantizers[0].signed' is missing")]
    [InlineData("{\"bits\":4,\"step\":0.1,\"signed\":true}", "header: field 'activation_quantizers[0].layer' is missing")]
    [InlineData("{\"layer\":\"features.conv2\",\"bits\":4,\"step\":0.1,\"signed\":false},{\"layer\":\"features.conv2\",\"bits\":4,\"step\":0.2,\"signed\":false}",
        "header: activation_quantizers[1].layer: layer 'features.conv2' has more than one activation quantizer")]
    // Checked on the rebuilt model.
    [InlineData("{\"layer\":\"features.conv9\",\"bits\":4,\"step\":0.1,\"signed\":false}",
        "activation_quantizers[0].layer: 'features.conv9' is not a module of lenet5")]
    [InlineData("{\"layer\":\"features.relu1\",\"bits\":4,\"step\":0.1,\"signed\":false}",
        "activation_quantizers[0].layer: 'features.relu1' is a ReLU, not a Conv2d or Linear")]
    public void A_bad_activation_quantizer_is_named_with_its_field(string entries, string message)
    {
        var data = File.ReadAllBytes(good);
        var content = Edit(data, "\"vocabulary\":null", $"\"vocabulary\":null,\"activation_quantizers\":[{entries}]");
        Assert.Equal(message, LoadError(Write(Reseal(content))));
    }

    [Fact]
    public void A_header_without_activation_quantizers_loads_with_none_and_a_good_entry_is_installed()
    {
        // The good file was written without activation quantizers, so its header has no such field, like files from before it.
        Assert.Empty(CompressedCheckpoint.Read(good).Description.ActivationQuantizers);
        var data = File.ReadAllBytes(good);
        var content = Edit(data, "\"vocabulary\":null", "\"vocabulary\":null,\"activation_quantizers\":[{\"layer\":\"features.conv2\",\"bits\":4,\"step\":0.1,\"signed\":false}]");
        using var loaded = CompressedCheckpoint.Load(Write(Reseal(content)));
        Assert.Equal([new ActivationQuantizer("features.conv2", 4, 0.1f, false)], loaded.Description.ActivationQuantizers);
        Assert.Equal(1, loaded.ActivationQuantizers.Count);
    }

    [Fact]
    public void A_bad_block_inside_a_sealed_file_names_the_tensor()
    {
        var data = File.ReadAllBytes(good);
        var content = data[..^32];
        // The first block follows the description and the block count; its kind byte comes first.
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(16));
        var firstBlock = 20 + headerLength + 4;
        content[firstBlock] = 9;
        var message = LoadError(Write(Reseal(content)));
        Assert.Equal("tensor 'features.conv1.weight': kind is 9; allowed: 0 (quantized), 1 (raw), 2 (points), 3 (lsq)", message);
    }

    [Fact]
    public void A_missing_file_is_a_file_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => CompressedCheckpoint.Load(Path.Combine(dir, "none.qsc")));
    }

    /// <summary>The content (checksum dropped) with the description's text replaced, its length field updated.</summary>
    private static byte[] Edit(byte[] file, string from, string to)
    {
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16));
        var json = Encoding.UTF8.GetString(file, 20, headerLength);
        Assert.Contains(from, json);
        var edited = Encoding.UTF8.GetBytes(json.Replace(from, to, StringComparison.Ordinal));
        var content = new byte[file.Length - 32 - headerLength + edited.Length];
        file.AsSpan(0, 20).CopyTo(content);
        BinaryPrimitives.WriteInt32LittleEndian(content.AsSpan(16), edited.Length);
        edited.CopyTo(content, 20);
        file.AsSpan(20 + headerLength, file.Length - 32 - 20 - headerLength).CopyTo(content.AsSpan(20 + edited.Length));
        return content;
    }
}
