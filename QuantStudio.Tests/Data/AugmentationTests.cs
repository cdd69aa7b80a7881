using QuantStudio.Core.Engine;
using QuantStudio.Core.Data;

namespace QuantStudio.Tests.Data;

public class AugmentationTests
{
    // A 2-channel 3×4 image whose bytes are 1..24, so every position is recognisable.
    private static readonly byte[] Image = Enumerable.Range(1, 24).Select(i => (byte)i).ToArray();

    private static byte[] Run(int padding, int oy, int ox, bool flip)
    {
        var dst = new byte[24];
        ImageAugmentation.CropAndFlip(Image, dst, 2, 3, 4, padding, oy, ox, flip);
        return dst;
    }

    [Fact]
    public void Centred_crop_without_flip_is_the_identity()
    {
        Assert.Equal(Image, Run(4, 4, 4, false));
    }

    [Fact]
    public void Flip_reverses_the_columns_of_every_row_and_channel()
    {
        var flipped = Run(2, 2, 2, true);
        Assert.Equal(new byte[] { 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13, 20, 19, 18, 17, 24, 23, 22, 21 }, flipped);
    }

    [Fact]
    public void Crop_with_padding_shifts_the_image_and_fills_with_zeros()
    {
        // Offset (padding - 1, padding + 2): content moves down one row and left two columns.
        var shifted = Run(2, 1, 4, false);
        Assert.Equal(new byte[]
        {
            0, 0, 0, 0,
            3, 4, 0, 0,
            7, 8, 0, 0,
            0, 0, 0, 0,
            15, 16, 0, 0,
            19, 20, 0, 0,
        }, shifted);
        // The far corner of the padded image holds nothing of the original.
        Assert.All(Run(4, 0, 0, false), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Crop_then_flip_mirrors_the_cropped_view()
    {
        var shiftedThenFlipped = Run(2, 2, 3, true);
        // Crop right by one: rows become [2,3,4,0]; flipping gives [0,4,3,2].
        Assert.Equal(new byte[] { 0, 4, 3, 2 }, shiftedThenFlipped[..4]);
    }

    [Fact]
    public void Offsets_outside_the_padded_image_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Run(2, 5, 0, false));
    }

    [Fact]
    public void Augmented_batches_depend_only_on_seed_epoch_and_example()
    {
        var set = ShapesGenerator.Generate(20, 3, false);
        var split = new ImageDataSplit("train", set, Normalization.Identity(3), AugmentationPolicy.CropAndFlip);
        using var a = split.CreateBatch([5, 6, 7], augment: true, seed: 1, epoch: 0, batchIndex: 0);
        using var b = split.CreateBatch([7, 5], augment: true, seed: 1, epoch: 0, batchIndex: 3);
        using var nextEpoch = split.CreateBatch([5], augment: true, seed: 1, epoch: 1, batchIndex: 0);
        using var plain = split.CreateBatch([5, 6, 7], augment: false, seed: 1, epoch: 0, batchIndex: 0);
        var av = a.Input.data<float>().ToArray();
        var bv = b.Input.data<float>().ToArray();
        const int size = 3072;
        Assert.Equal(av.AsSpan(0, size).ToArray(), bv.AsSpan(size, size).ToArray()); // example 5 in both
        Assert.Equal(av.AsSpan(2 * size, size).ToArray(), bv.AsSpan(0, size).ToArray()); // example 7 in both
        // Over three examples and two epochs, augmentation changed something.
        Assert.NotEqual(plain.Input.data<float>().ToArray(), av);
        Assert.NotEqual(av.AsSpan(0, size).ToArray(), nextEpoch.Input.data<float>().ToArray());
    }
}
