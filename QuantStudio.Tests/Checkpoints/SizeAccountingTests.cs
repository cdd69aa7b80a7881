using System.Text;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>The file really is as small as the size report says; figures recomputed here from the format's definition.</summary>
public sealed class SizeAccountingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-size-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Dictionary<string, TensorEncoding> Uniform(Core.Models.InputShape input, TorchSharp.torch.nn.Module model, int bits, int bucket) =>
        Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(bits, bucket, "uniform"));

    [Theory]
    [InlineData(4, 256)]
    [InlineData(2, 64)]
    [InlineData(8, 512)]
    public void Packed_file_is_packed_plus_full_precision_plus_header_to_the_byte(int bits, int bucket)
    {
        using var model = Create("cifar-student-3", Shapes, width: 0.5);
        using var state = model.StateDictOf();
        var encodings = Uniform(Shapes, model, bits, bucket);
        var path = Path.Combine(dir, "s.qsc");
        var description = Describe("cifar-student-3", Shapes, width: 0.5, dataset: "shapes",
            normalization: new Core.Data.Normalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]));
        var info = CompressedCheckpoint.Save(path, model, description, encodings, CodeEncodingPolicy.Packed);

        // Independently: packed = ⌈n·b/8⌉ + 8 bytes of (α, β) per bucket; the rest is stored as is.
        long packed = 0, fullPrecision = 0, fp32 = 0, header = 20 + 4 + 32;
        header += CheckpointHeaderLength(path);
        foreach (var (name, tensor) in state)
        {
            var n = tensor.numel();
            var blockHeader = 1 + 2 + Encoding.UTF8.GetByteCount(name) + 1 + 8 * tensor.dim();
            if (encodings.ContainsKey(name))
            {
                packed += (n * bits + 7) / 8 + 8 * ((n + bucket - 1) / bucket);
                header += blockHeader + 4 + 8 + 8 + 8; // bits..reserved, bucket size, bucket count, packed length
            }
            else
            {
                fullPrecision += n * tensor.dtype.ElementSize();
                header += blockHeader + 1 + 8; // dtype, byte length
            }
            if (tensor.dtype.IsFloatingPoint())
                fp32 += 4 * n;
        }

        var onDisk = new FileInfo(path).Length;
        Assert.Equal(onDisk, info.FileBytes);
        Assert.Equal(packed, info.PackedBytes);
        Assert.Equal(fullPrecision, info.FullPrecisionBytes);
        Assert.Equal(header, info.HeaderBytes);
        Assert.Equal(fp32, info.Fp32Bytes);
        Assert.Equal(onDisk, packed + fullPrecision + header);
        Assert.Equal(0, info.DifferenceFromPacked);
        Assert.True(info.HuffmanBytes > 0);
    }

    [Fact]
    public void Any_policy_splits_the_file_exactly_into_stored_full_precision_and_header()
    {
        using var model = Create("lenet5", Mnist);
        var encodings = Uniform(Mnist, model, 4, 256);
        foreach (var policy in Enum.GetValues<CodeEncodingPolicy>())
        {
            var path = Path.Combine(dir, $"{policy}.qsc");
            var info = CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist), encodings, policy);
            Assert.Equal(new FileInfo(path).Length, info.StoredBytes + info.FullPrecisionBytes + info.HeaderBytes);
            var expectedStored = info.Tensors.Where(t => t.Sizes is not null)
                .Sum(t => policy switch
                {
                    CodeEncodingPolicy.Packed => t.Sizes!.PackedBytes,
                    CodeEncodingPolicy.Huffman => t.Sizes!.HuffmanBytes,
                    _ => Math.Min(t.Sizes!.PackedBytes, t.Sizes.HuffmanBytes),
                });
            Assert.Equal(expectedStored, info.StoredBytes);
            Assert.Equal(info.Tensors.Sum(t => t.BlockBytes), info.FileBytes - 20 - CheckpointHeaderLength(path) - 4 - 32);
            // Loading reports the same figures as saving.
            Assert.Equal(info with { Tensors = [] }, CompressedCheckpoint.Read(path).Info with { Tensors = [] });
        }
    }

    [Fact]
    public void A_4_bit_student_is_within_2_percent_of_packed_plus_fp32_plus_header_and_far_below_fp32()
    {
        // The paper's smallest CIFAR student at full width, quantizing every conv and linear layer but the first.
        using var model = Create("cifar-student-3", Shapes);
        GiveTrainedLikeWeights(model);
        var encodings = Uniform(Shapes, model, 4, 256);
        Assert.True(encodings.Remove("features.conv1.weight"));
        var description = Describe("cifar-student-3", Shapes, dataset: "shapes",
            normalization: new Core.Data.Normalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]));
        var path = Path.Combine(dir, "student.qsc");
        var info = CompressedCheckpoint.Save(path, model, description, encodings);

        var onDisk = new FileInfo(path).Length;
        var reference = info.PackedBytes + info.FullPrecisionBytes + info.HeaderBytes;
        output.WriteLine($"file {onDisk} B; packed {info.PackedBytes} + full precision {info.FullPrecisionBytes} + header {info.HeaderBytes} = {reference} B; " +
                         $"fp32 {info.Fp32Bytes} B; ratio {info.CompressionRatio:F2}; {info.BitsPerQuantizedWeight:F3} bits/weight");
        Assert.True(Math.Abs(onDisk - reference) <= 0.02 * reference, $"file {onDisk} vs packed + fp32 + header {reference}");
        Assert.True(info.CompressionRatio > 6, $"ratio {info.CompressionRatio}");
        Assert.True(info.BitsPerQuantizedWeight is > 4 and < 4.5, $"{info.BitsPerQuantizedWeight} bits per weight");

        // Huffman coding where it is smaller shrinks such weights further, below that figure.
        var smallest = Path.Combine(dir, "smallest.qsc");
        var huffman = CompressedCheckpoint.Save(smallest, model, description, encodings, CodeEncodingPolicy.Smaller);
        output.WriteLine($"smallest: file {huffman.FileBytes} B = stored {huffman.StoredBytes} + {huffman.FullPrecisionBytes} + {huffman.HeaderBytes}; " +
                         $"huffman {huffman.HuffmanBytes} B; {100 * huffman.DifferenceFromPacked:F2}% from packed + fp32 + header");
        Assert.Equal(info.PackedBytes, huffman.PackedBytes);
        Assert.Equal(info.HuffmanBytes, huffman.HuffmanBytes);
        Assert.True(huffman.StoredBytes < info.StoredBytes);
        Assert.Equal(new FileInfo(smallest).Length, huffman.StoredBytes + huffman.FullPrecisionBytes + huffman.HeaderBytes);
        using var a = CompressedCheckpoint.Read(path).Dequantize();
        using var b = CompressedCheckpoint.Read(smallest).Dequantize();
        foreach (var (name, value) in a)
            AssertBitwiseEqual(value, b[name], name);
    }

    /// <summary>Bell-shaped weights, as training leaves them (a fresh init is uniform, which Huffman coding cannot shrink).</summary>
    private static void GiveTrainedLikeWeights(TorchSharp.torch.nn.Module model)
    {
        using var state = model.StateDictOf();
        using var noGrad = torch.no_grad();
        foreach (var name in Weights(model))
        {
            using var scope = torch.NewDisposeScope();
            state[name].copy_(torch.randn(state[name].shape) * 0.05);
        }
    }

    private static int CheckpointHeaderLength(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return BitConverter.ToInt32(bytes, 16);
    }
}
