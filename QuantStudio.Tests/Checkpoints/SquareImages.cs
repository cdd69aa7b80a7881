using QuantStudio.Core.Data;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>
/// An easy 10-class 3×32×32 task a small CNN learns in a couple of epochs: a bright square whose
/// position and colour give the class, jittered by a few pixels, on noise.
/// </summary>
internal static class SquareImages
{
    public static LoadedDataset Load(int train, int test, int seed)
    {
        var info = new DatasetInfo
        {
            Name = "squares",
            Kind = DatasetKind.Image,
            Channels = 3,
            Height = 32,
            Width = 32,
            NumClasses = 10,
            Normalization = new Normalization([0.3f, 0.3f, 0.3f], [0.3f, 0.3f, 0.3f]),
        };
        var trainSplit = new ImageDataSplit("train", Generate(train, seed), info.Normalization, AugmentationPolicy.None);
        var testSplit = new ImageDataSplit("test", Generate(test, seed + 1000), info.Normalization, AugmentationPolicy.None);
        return new LoadedDataset(info, trainSplit, testSplit, testSplit, seed, augment: false);
    }

    private static ImageSet Generate(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 3 * 32 * 32];
        var labels = new int[count];
        for (var n = 0; n < count; n++)
        {
            var image = pixels.AsSpan(n * 3072, 3072);
            for (var i = 0; i < image.Length; i++)
                image[i] = (byte)random.Next(60);
            var label = random.Next(10);
            labels[n] = label;
            var top = 2 + 10 * (label / 4) + random.Next(-2, 3);
            var left = 2 + 7 * (label % 4) + random.Next(-2, 3);
            for (var c = 0; c < 3; c++)
            {
                // Each class lights its own mix of channels.
                var on = ((label + 1) >> c & 1) == 1 || c == 2;
                for (var y = Math.Max(0, top); y < Math.Min(32, top + 8); y++)
                    for (var x = Math.Max(0, left); x < Math.Min(32, left + 8); x++)
                        image[c * 1024 + y * 32 + x] = on ? (byte)230 : (byte)120;
            }
        }
        return new ImageSet(pixels, labels, 3, 32, 32);
    }
}
