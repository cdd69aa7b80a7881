using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Data;

/// <summary>Byte images normalized per channel into float32 N×C×H×W batches, with int64 labels.</summary>
public sealed class ImageDataSplit : DataSplit
{
    private readonly float[] lookup;

    public ImageDataSplit(string name, ImageSet images, Normalization normalization, AugmentationPolicy augmentation) : base(name)
    {
        if (normalization.Channels != images.Channels)
            throw new ArgumentException($"normalization has {normalization.Channels} channels, the images {images.Channels}");
        Images = images;
        Normalization = normalization;
        Augmentation = augmentation;
        lookup = normalization.ByteLookup();
    }

    public ImageSet Images { get; }
    public Normalization Normalization { get; }
    public AugmentationPolicy Augmentation { get; }
    public override int Count => Images.Count;

    public override Batch CreateBatch(ReadOnlySpan<int> indices, bool augment, long seed, int epoch, int batchIndex)
    {
        var n = indices.Length;
        var size = Images.ImageSize;
        var plane = Images.Height * Images.Width;
        var input = new float[(long)n * size];
        var labels = new long[n];
        var scratch = new byte[size];
        var doAugment = augment && !Augmentation.IsNone;
        for (var i = 0; i < n; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)Images.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"example index out of range for the {Name} split of {Images.Count}");
            ReadOnlySpan<byte> image = Images.Image(index);
            if (doAugment)
            {
                var random = DeterministicRandom.For(seed, RandomStreams.Augment, epoch, index);
                ImageAugmentation.Apply(image, scratch, Images.Channels, Images.Height, Images.Width, Augmentation, random);
                image = scratch;
            }
            var dst = input.AsSpan(i * size, size);
            for (var c = 0; c < Images.Channels; c++)
            {
                var table = lookup.AsSpan(c * 256, 256);
                var src = image.Slice(c * plane, plane);
                var d = dst.Slice(c * plane, plane);
                for (var p = 0; p < plane; p++)
                    d[p] = table[src[p]];
            }
            labels[i] = Images.Labels[index];
        }
        var x = torch.tensor(input, [n, Images.Channels, Images.Height, Images.Width]);
        var y = torch.tensor(labels, [n]);
        return new Batch(x, y, indices.ToArray(), epoch, batchIndex);
    }
}
