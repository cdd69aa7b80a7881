namespace QuantStudio.Core.Quantization;

/// <summary>
/// How a flattened tensor of <see cref="Count"/> elements splits into buckets. A null bucket size
/// means one bucket for the whole tensor. The last bucket may be partial: it is treated as if
/// padded with the tensor's last value, which changes neither its min, its max nor its max |v|,
/// so the padding is never materialised or stored.
/// </summary>
public readonly record struct BucketLayout(long Count, long BucketSize)
{
    public const int DefaultBucketSize = 256;

    public static BucketLayout For(long count, int? bucketSize)
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "element count must be >= 0");
        if (bucketSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, "bucket size must be >= 1 (or null for the whole tensor)");
        return new BucketLayout(count, bucketSize ?? Math.Max(count, 1));
    }

    public long BucketCount => (Count + BucketSize - 1) / BucketSize;

    public long Start(long bucket) => bucket * BucketSize;
    public long End(long bucket) => Math.Min(Count, (bucket + 1) * BucketSize);
}
