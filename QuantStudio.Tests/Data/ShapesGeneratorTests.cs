using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

public class ShapesGeneratorTests
{
    [Fact]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_different_ones()
    {
        var a = ShapesGenerator.Generate(200, seed: 7, testSplit: false);
        var b = ShapesGenerator.Generate(200, seed: 7, testSplit: false);
        var c = ShapesGenerator.Generate(200, seed: 8, testSplit: false);
        var test = ShapesGenerator.Generate(200, seed: 7, testSplit: true);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Pixels, c.Pixels);
        Assert.NotEqual(a.Pixels, test.Pixels);
        // Example i does not depend on how many were generated (parallel generation is keyed per example).
        Assert.Equal(a.Image(37).ToArray(), ShapesGenerator.Generate(50, seed: 7, testSplit: false).Image(37).ToArray());
    }

    [Fact]
    public void Classes_are_balanced_and_images_vary()
    {
        var set = ShapesGenerator.Generate(1000, seed: 1, testSplit: false);
        Assert.All(set.ClassCounts(10), n => Assert.Equal(100, n));
        Assert.Equal(3 * 32 * 32, set.ImageSize);
        // No two images alike, and every image uses a real range of values (not blank).
        Assert.Equal(1000, Enumerable.Range(0, set.Count).Select(i => Convert.ToHexString(set.Image(i))).Distinct().Count());
        for (var i = 0; i < set.Count; i++)
        {
            var img = set.Image(i);
            var min = 255;
            var max = 0;
            foreach (var v in img)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            Assert.True(max - min > 40, $"image {i} is nearly flat ({min}..{max})");
        }
    }

    [Fact]
    public void Every_class_draws_a_distinct_silhouette()
    {
        // Rasterize each class's inside test on a grid: each mask covers a real area and differs from every other class.
        var masks = new List<bool[]>();
        for (var k = 0; k < 10; k++)
        {
            var mask = new bool[64 * 64];
            for (var y = 0; y < 64; y++)
                for (var x = 0; x < 64; x++)
                    mask[y * 64 + x] = ShapesGenerator.Inside(k, (x - 31.5f) / 30f, (y - 31.5f) / 30f);
            var area = mask.Count(m => m);
            Assert.InRange(area, 300, 3800);
            masks.Add(mask);
        }
        for (var i = 0; i < 10; i++)
            for (var j = i + 1; j < 10; j++)
            {
                var differ = masks[i].Zip(masks[j]).Count(p => p.First != p.Second);
                Assert.True(differ > 150, $"{ShapesGenerator.ClassNames[i]} and {ShapesGenerator.ClassNames[j]} differ in only {differ} cells");
            }
    }

    [Fact]
    public void Every_class_is_mirror_symmetric_so_flipping_keeps_the_label()
    {
        // A mirrored shape equals the shape rotated by some angle; check the silhouette's mirror matches some rotation.
        for (var k = 0; k < 10; k++)
        {
            var best = int.MaxValue;
            for (var step = 0; step < 360; step++)
            {
                var angle = step * MathF.PI / 180;
                var (c, s) = (MathF.Cos(angle), MathF.Sin(angle));
                var mismatch = 0;
                for (var y = 0; y < 40; y++)
                    for (var x = 0; x < 40; x++)
                    {
                        var u = (x - 19.5f) / 19f;
                        var v = (y - 19.5f) / 19f;
                        var mirrored = ShapesGenerator.Inside(k, -u, v);
                        var rotated = ShapesGenerator.Inside(k, c * u + s * v, -s * u + c * v);
                        if (mirrored != rotated)
                            mismatch++;
                    }
                best = Math.Min(best, mismatch);
            }
            Assert.True(best < 40, $"{ShapesGenerator.ClassNames[k]}: its mirror image matches no rotation (best mismatch {best})");
        }
    }

    [Fact]
    public void The_registry_loads_shapes_with_normalization_from_the_training_images()
    {
        var options = new DatasetLoadOptions { ShapesTrainCount = 500, ShapesTestCount = 100 };
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "shapes", ValidationSplit = 0.2 }, seed: 5, options);
        Assert.Equal((400, 100, 100), (data.Train.Count, data.Validation.Count, data.Test.Count));
        Assert.Equal(10, data.Info.NumClasses);
        Assert.Equal([3L, 32, 32], data.Info.ExampleShape);
        var norm = data.Info.Normalization!;
        Assert.Equal(3, norm.Channels);
        Assert.All(norm.Mean, m => Assert.InRange(m, 0.3f, 0.7f));
        Assert.All(norm.Std, s => Assert.InRange(s, 0.15f, 0.45f));
        Assert.Equal(ShapesGenerator.ClassNames, data.Info.ClassNames);
    }
}
