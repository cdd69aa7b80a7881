using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Data;

public class NormalizationTests
{
    [Fact]
    public void Batches_hold_normalized_pixels_and_int64_labels()
    {
        // Two 2×1×2 images: channel 0 holds 0 and 255, channel 1 holds 51 and 102.
        var set = new ImageSet([0, 255, 51, 102, 255, 0, 102, 51], [3, 1], 2, 1, 2);
        var norm = new Normalization([0.5f, 0.2f], [0.5f, 0.1f]);
        var split = new ImageDataSplit("test", set, norm, AugmentationPolicy.None);
        using var batch = split.CreateBatch([1, 0], augment: false, seed: 1, epoch: 0, batchIndex: 0);
        Assert.Equal([2L, 2, 1, 2], batch.Input.shape);
        Assert.Equal(ScalarType.Float32, batch.Input.dtype);
        Assert.Equal(ScalarType.Int64, batch.Target.dtype);
        Assert.Equal(new[] { 1L, 3L }, batch.Target.data<long>().ToArray());
        var expected = new[] { 1f, -1f, 2f, 0f, -1f, 1f, 0f, 2f };
        var actual = batch.Input.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 5);
        Assert.Equal(new[] { 1, 0 }, batch.ExampleIndices);
    }

    [Fact]
    public void Apply_on_a_tensor_matches_the_byte_lookup()
    {
        var norm = new Normalization([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);
        var table = norm.ByteLookup();
        using var x = torch.tensor(new[] { 0f, 1f, 128 / 255f }, [3, 1, 1]);
        using var y = norm.Apply(x);
        var v = y.data<float>().ToArray();
        Assert.Equal(table[0 * 256 + 0], v[0], 5);
        Assert.Equal(table[1 * 256 + 255], v[1], 5);
        Assert.Equal(table[2 * 256 + 128], v[2], 5);
    }

    [Fact]
    public void Computed_statistics_match_the_definition()
    {
        // One channel, values 0 and 255 in equal numbers: mean 0.5, std 0.5.
        var set = new ImageSet([0, 255, 255, 0], [0, 0], 1, 1, 2);
        var norm = Normalization.Compute(set);
        Assert.Equal(0.5f, norm.Mean[0], 5);
        Assert.Equal(0.5f, norm.Std[0], 5);
    }

    [Fact]
    public void Invalid_statistics_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Normalization([0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => new Normalization([0.5f, 0.5f], [1f]));
    }
}
