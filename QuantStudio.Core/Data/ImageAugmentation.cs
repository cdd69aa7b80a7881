namespace QuantStudio.Core.Data;

/// <summary>Random crop after zero padding, and horizontal flip, on C×H×W byte images.</summary>
public static class ImageAugmentation
{
    /// <summary>
    /// Writes the crop of the image padded by <paramref name="padding"/> zero pixels on every side,
    /// taken at (<paramref name="offsetY"/>, <paramref name="offsetX"/>) in the padded image (each in
    /// [0, 2·padding]), optionally mirrored left–right. Offset (padding, padding) without flip is the identity.
    /// </summary>
    public static void CropAndFlip(ReadOnlySpan<byte> source, Span<byte> destination, int channels, int height, int width,
        int padding, int offsetY, int offsetX, bool flip)
    {
        var size = channels * height * width;
        if (source.Length != size || destination.Length != size)
            throw new ArgumentException($"source and destination must hold {channels}×{height}×{width} = {size} bytes");
        if (offsetY < 0 || offsetY > 2 * padding || offsetX < 0 || offsetX > 2 * padding)
            throw new ArgumentOutOfRangeException(nameof(offsetY), $"offsets must be in [0, {2 * padding}]");
        var dy = offsetY - padding;
        var dx = offsetX - padding;
        for (var c = 0; c < channels; c++)
        {
            var plane = c * height * width;
            for (var y = 0; y < height; y++)
            {
                var row = destination.Slice(plane + y * width, width);
                var sy = y + dy;
                if (sy < 0 || sy >= height)
                {
                    row.Clear();
                    continue;
                }
                var src = source.Slice(plane + sy * width, width);
                for (var x = 0; x < width; x++)
                {
                    // Flip the cropped view, as torchvision's RandomCrop followed by RandomHorizontalFlip does.
                    var cx = flip ? width - 1 - x : x;
                    var sx = cx + dx;
                    row[x] = sx >= 0 && sx < width ? src[sx] : (byte)0;
                }
            }
        }
    }

    /// <summary>Draws offsets and flip from <paramref name="random"/> and applies them.</summary>
    public static void Apply(ReadOnlySpan<byte> source, Span<byte> destination, int channels, int height, int width,
        AugmentationPolicy policy, DeterministicRandom random)
    {
        var oy = policy.Padding > 0 ? random.NextInt(2 * policy.Padding + 1) : 0;
        var ox = policy.Padding > 0 ? random.NextInt(2 * policy.Padding + 1) : 0;
        var flip = policy.HorizontalFlip && random.NextBool();
        CropAndFlip(source, destination, channels, height, width, policy.Padding, oy, ox, flip);
    }
}
