using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Compression;

public class SizeAccountingTests
{
    // Polino et al.: with bucket k, b bits and f = 32-bit scales (α and β), the ratio is k·f/(k·b + 2f).
    private static double PaperRatio(int k, double b) => k * 32.0 / (k * b + 2 * 32.0);

    [Theory]
    [InlineData(4, 256)]
    [InlineData(2, 64)]
    [InlineData(8, 512)]
    [InlineData(1, 256)]
    public void Packed_ratio_of_one_tensor_matches_the_formula(int bits, int bucket)
    {
        torch.manual_seed(bits);
        using var w = torch.randn(bucket * 40);
        using var q = new BucketedQuantizer(new QuantizerSettings(bits, bucket)).Quantize(w);
        var sizes = QuantizedBlock.From("w", q).Sizes;
        Assert.Equal(bucket * 40 * 4, sizes.Fp32Bytes);
        Assert.Equal(40L * (bucket * bits / 8 + 8), sizes.PackedBytes);
        Assert.Equal(PaperRatio(bucket, bits), sizes.PackedCompressionRatio, 12);
    }

    [Fact]
    public void Huffman_bytes_match_the_formula_at_the_mean_code_length_up_to_the_table()
    {
        torch.manual_seed(2);
        const int k = 256, m = 100;
        using var w = torch.randn(k * m);
        using var q = new BucketedQuantizer(new QuantizerSettings(4, k)).Quantize(w);
        var sizes = QuantizedBlock.From("w", q).Sizes;
        // Gaussian buckets put few weights in the outer levels: Huffman must win here.
        Assert.True(sizes.HuffmanMeanBits < 4);
        Assert.Equal(CodeEncoding.Huffman, sizes.Encoding);
        var formulaBytes = sizes.Fp32Bytes / PaperRatio(k, sizes.HuffmanMeanBits);
        // The difference is the 16-byte code table plus less than one byte of padding.
        Assert.InRange(sizes.HuffmanBytes - formulaBytes, 16, 17);
        Assert.Equal(sizes.Fp32Bytes / (double)sizes.HuffmanBytes, sizes.CompressionRatio, 12);
    }

    [Fact]
    public void Absmax_stores_one_scale_per_bucket_and_partial_buckets_count()
    {
        using var w = torch.randn(1000);
        using var q = new BucketedQuantizer(new QuantizerSettings(3, 256, QuantizationScheme.AbsMax)).Quantize(w);
        var sizes = QuantizedBlock.From("w", q).Sizes;
        // 4 buckets (the last holds 232), one fp32 α each; 1000 codes of 3 bits = 375 bytes.
        Assert.Equal(16, sizes.ScaleBytes);
        Assert.Equal(375 + 16, sizes.PackedBytes);
    }

    [Fact]
    public void Report_totals_add_up_over_tensors()
    {
        var a = new TensorSizes("a", 1000, 4, 64, 564, 500, 3.5);
        var b = new TensorSizes("b", 3000, 2, 96, 846, 900, 2.0);
        var report = new SizeReport([a, b]);
        Assert.Equal(16000, report.Fp32Bytes);
        Assert.Equal(1410, report.PackedBytes);
        Assert.Equal(500 + 846, report.StoredBytes);
        Assert.Equal((3.5 * 1000 + 2.0 * 3000) / 4000, report.HuffmanMeanBits, 12);
        Assert.Equal(16000.0 / 1346, report.CompressionRatio, 12);
        Assert.Equal(8.0 * 1346 / 4000, report.BitsPerWeight, 12);
    }
}
