using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Quantization;

// Hand-computed examples: α = max − min, β = min, x = (v − β)/α·(s − 1), q = round-half-even(x),
// v̂ = q·α/(s − 1) + β.
public class BucketedQuantizerTests
{
    private static QuantizedTensor Quantize(float[] values, QuantizerSettings settings)
    {
        using var t = torch.tensor(values);
        return new BucketedQuantizer(settings).Quantize(t);
    }

    [Fact]
    public void A_constant_bucket_gets_alpha_one_and_is_reproduced_exactly()
    {
        using var q = Quantize([3f, 3f, 3f, 3f, -1f, -1f], new QuantizerSettings(2, bucketSize: 4));
        Assert.Equal(new[] { 1f, 1f }, q.Alpha.data<float>().ToArray());
        Assert.Equal(new[] { 3f, -1f }, q.Beta.data<float>().ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0 }, q.Codes.data<byte>().ToArray());
        Assert.Equal(new[] { 3f, 3f, 3f, 3f, -1f, -1f }, q.Dequantized.data<float>().ToArray());
    }

    [Fact]
    public void A_tensor_shorter_than_a_bucket_is_one_bucket_and_ties_round_to_even()
    {
        // α = 4, β = 0, s − 1 = 3: x = 0, 0.75, 1.5, 2.25, 3 → q = 0, 1, 2, 2, 3.
        using var q = Quantize([0f, 1f, 2f, 3f, 4f], new QuantizerSettings(2, bucketSize: 256));
        Assert.Equal(new[] { 4f }, q.Alpha.data<float>().ToArray());
        Assert.Equal(new[] { 0f }, q.Beta.data<float>().ToArray());
        Assert.Equal(new byte[] { 0, 1, 2, 2, 3 }, q.Codes.data<byte>().ToArray());
        var expected = new[] { 0f, 4f / 3, 8f / 3, 8f / 3, 4f };
        Assert.Equal(expected, q.Dequantized.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void A_size_not_a_multiple_of_the_bucket_keeps_a_partial_last_bucket_at_one_bit()
    {
        // Buckets [0 2 4] [10 20 40] [7 (padded with 7)]; one bit: x ∈ {0, 1}, 0.5 and 1/3 round down.
        using var q = Quantize([0f, 2f, 4f, 10f, 20f, 40f, 7f], new QuantizerSettings(1, bucketSize: 3));
        Assert.Equal(new[] { 4f, 30f, 1f }, q.Alpha.data<float>().ToArray());
        Assert.Equal(new[] { 0f, 10f, 7f }, q.Beta.data<float>().ToArray());
        Assert.Equal(new byte[] { 0, 0, 1, 0, 0, 1, 0 }, q.Codes.data<byte>().ToArray());
        Assert.Equal(new[] { 0f, 0f, 4f, 10f, 10f, 40f, 7f }, q.Dequantized.data<float>().ToArray());
    }

    [Fact]
    public void Eight_bits_on_integers_0_to_255_is_the_identity()
    {
        var values = Enumerable.Range(0, 256).Select(i => (float)i).Reverse().ToArray();
        using var q = Quantize(values, new QuantizerSettings(8, bucketSize: null));
        Assert.Equal(values.Select(v => (byte)v).ToArray(), q.Codes.data<byte>().ToArray());
        Assert.Equal(values, q.Dequantized.data<float>().ToArray());
        Assert.Equal(new[] { 255f }, q.Alpha.data<float>().ToArray());
    }

    [Fact]
    public void Absmax_keeps_the_sign_bit_apart()
    {
        // bits 3 → 4 levels on |v| (3 steps), α = max |v| = 3: |v| = 3, 1, 0, 0.5, 2, 3 → q = 3, 1, 0, 0, 2, 3.
        using var q = Quantize([-3f, -1f, 0f, 0.5f, 2f, 3f], new QuantizerSettings(3, scheme: QuantizationScheme.AbsMax));
        Assert.Equal(new byte[] { 4 | 3, 4 | 1, 0, 0, 2, 3 }, q.Codes.data<byte>().ToArray());
        Assert.Equal(new[] { -3f, -1f, 0f, 0f, 2f, 3f }, q.Dequantized.data<float>().ToArray());
        Assert.Equal(new[] { 3f }, q.Alpha.data<float>().ToArray());
        Assert.Equal(new[] { 0f }, q.Beta.data<float>().ToArray());
    }

    [Fact]
    public void Stochastic_rounding_is_unbiased_and_repeatable_by_seed()
    {
        // One bit, bucket [0, 1]: 0.3 must become 1 with probability 0.3.
        var values = new float[100_000];
        Array.Fill(values, 0.3f);
        values[0] = 0;
        values[1] = 1;
        var settings = new QuantizerSettings(1, bucketSize: null, rounding: Core.Quantization.RoundingMode.Stochastic, seed: 42);
        using var a = Quantize(values, settings);
        var d = a.Dequantized.data<float>().ToArray();
        Assert.All(d, v => Assert.True(v == 0f || v == 1f));
        var mean = d.Skip(2).Average();
        Assert.InRange(mean, 0.3 - 0.006, 0.3 + 0.006); // 4 standard deviations of a binomial mean

        using var again = Quantize(values, settings);
        Assert.Equal(a.Codes.data<byte>().ToArray(), again.Codes.data<byte>().ToArray());
        using var other = Quantize(values, new QuantizerSettings(1, bucketSize: null, rounding: Core.Quantization.RoundingMode.Stochastic, seed: 43));
        Assert.NotEqual(a.Codes.data<byte>().ToArray(), other.Codes.data<byte>().ToArray());
    }

    [Fact]
    public void Dequantize_inverts_quantize_bit_for_bit()
    {
        torch.manual_seed(5);
        using var w = torch.randn(3, 1000);
        foreach (var settings in new[] { new QuantizerSettings(4), new QuantizerSettings(3, 100, QuantizationScheme.AbsMax), new QuantizerSettings(7, null) })
        {
            using var q = new BucketedQuantizer(settings).Quantize(w);
            using var back = BucketedQuantizer.Dequantize(q.Codes, q.Alpha, q.Beta, settings);
            Assert.Equal([3L, 1000L], back.shape);
            Assert.Equal(q.Dequantized.data<float>().ToArray(), back.data<float>().ToArray());
        }
    }

    [Fact]
    public void Error_never_exceeds_half_a_step()
    {
        torch.manual_seed(11);
        using var w = torch.randn(5000);
        var settings = new QuantizerSettings(4, 128);
        using var q = new BucketedQuantizer(settings).Quantize(w);
        var v = w.data<float>().ToArray();
        var d = q.Dequantized.data<float>().ToArray();
        var alpha = q.Alpha.data<float>().ToArray();
        for (var i = 0; i < v.Length; i++)
            Assert.True(Math.Abs(v[i] - d[i]) <= alpha[i / 128] / 15 / 2 * 1.0001, $"element {i}: {v[i]} → {d[i]}");
    }

    [Fact]
    public void Invalid_settings_name_the_field_and_range()
    {
        Assert.Contains("1..8", Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizerSettings(0)).Message);
        Assert.Contains("1..8", Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizerSettings(9)).Message);
        Assert.Equal("bucketSize", Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizerSettings(4, 0)).ParamName);
        Assert.Contains("2..8", Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizerSettings(1, scheme: QuantizationScheme.AbsMax)).Message);
        using var ints = torch.ones([4], ScalarType.Int64);
        Assert.Equal("bits", Assert.Throws<ArgumentOutOfRangeException>(() => QuantKernels.BucketedQuantize(torch.ones(4), 0, 9, false, false)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => QuantKernels.BucketedQuantize(ints, 0, 4, false, false)).ParamName);
    }
}
