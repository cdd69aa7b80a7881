using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Compression;

public class QswFileTests
{
    private static List<QswBlock> SampleBlocks()
    {
        torch.manual_seed(8);
        using var w1 = torch.randn(33, 70);
        using var w2 = torch.randn(5, 3, 3, 3);
        using var q1 = new BucketedQuantizer(new QuantizerSettings(4, 256)).Quantize(w1);
        using var q2 = new BucketedQuantizer(new QuantizerSettings(5, null, QuantizationScheme.AbsMax)).Quantize(w2);
        return
        [
            QuantizedBlock.From("layer1.weight", q1, CodeEncoding.Huffman),
            QuantizedBlock.From("conv.weight", q2, CodeEncoding.Packed),
            new RawBlock("bn.num_batches_tracked", [], ScalarType.Int64, BitConverter.GetBytes(12345L)),
        ];
    }

    private static byte[] Bytes(IReadOnlyCollection<QswBlock> blocks)
    {
        using var ms = new MemoryStream();
        QswFile.Write(ms, blocks);
        return ms.ToArray();
    }

    [Fact]
    public void Round_trips_codes_scales_shapes_and_raw_tensors()
    {
        var blocks = SampleBlocks();
        var bytes = Bytes(blocks);
        Assert.Equal(QswFile.SerializedSize(blocks), bytes.Length);
        Assert.Equal("QSWF"u8.ToArray(), bytes[..4]);

        var back = QswFile.Read(bytes);
        Assert.Equal(blocks.Select(b => b.Name), back.Select(b => b.Name));
        for (var i = 0; i < 2; i++)
        {
            var a = (QuantizedBlock)blocks[i];
            var b = (QuantizedBlock)back[i];
            Assert.Equal(a.Shape, b.Shape);
            Assert.Equal(a.Codes, b.Codes);
            Assert.Equal(a.Alpha, b.Alpha);
            Assert.Equal(a.Beta, b.Beta);
            Assert.Equal(a.Settings.Bits, b.Settings.Bits);
            Assert.Equal(a.Settings.BucketSize, b.Settings.BucketSize);
            Assert.Equal(a.Settings.Scheme, b.Settings.Scheme);
            Assert.Equal(a.Encoding, b.Encoding);
            Assert.Equal(a.Dequantize(), b.Dequantize());
            using var t = b.DequantizeTensor();
            Assert.Equal(b.Dequantize(), t.data<float>().ToArray());
        }
        var raw = (RawBlock)back[2];
        Assert.Equal(ScalarType.Int64, raw.DType);
        Assert.Equal(12345L, BitConverter.ToInt64(raw.Data));
    }

    [Fact]
    public void Rejects_foreign_truncated_and_corrupt_files()
    {
        var bytes = Bytes(SampleBlocks());
        Assert.Contains("magic", Assert.Throws<QswFormatException>(() => QswFile.Read("PK\u0003\u0004 not a qsw file"u8.ToArray())).Message);
        for (var cut = 13; cut < bytes.Length; cut += 97)
            Assert.Throws<QswFormatException>(() => QswFile.Read(bytes[..cut]));
        var version = (byte[])bytes.Clone();
        version[4] = 9;
        Assert.Contains("version 9", Assert.Throws<QswFormatException>(() => QswFile.Read(version)).Message);
        var trailing = bytes.Concat(new byte[] { 0 }).ToArray();
        Assert.Contains("after the last", Assert.Throws<QswFormatException>(() => QswFile.Read(trailing)).Message);
        // Bits field of the first block: magic 4 + version 2 + flags 2 + count 4 + kind 1 + name 2 + 13 + ndim 1 + 2·8.
        var bits = (byte[])bytes.Clone();
        bits[12 + 1 + 2 + 13 + 1 + 16] = 12;
        var e = Assert.Throws<QswFormatException>(() => QswFile.Read(bits));
        Assert.Contains("'layer1.weight'", e.Message);
        Assert.Contains("1..8", e.Message);
    }
}
