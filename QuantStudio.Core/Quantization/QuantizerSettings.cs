namespace QuantStudio.Core.Quantization;

/// <summary>
/// Settings of the bucketed quantizer (Polino et al. 2018), validated on construction so every
/// consumer (kernel, reference, file format) can rely on them.
/// </summary>
public sealed record QuantizerSettings
{
    public QuantizerSettings(int bits, int? bucketSize = BucketLayout.DefaultBucketSize, QuantizationScheme scheme = QuantizationScheme.Uniform,
                             RoundingMode rounding = RoundingMode.Deterministic, ulong seed = 0)
    {
        if (bits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in 1..8");
        if (scheme == QuantizationScheme.AbsMax && bits < 2)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "the absmax scheme keeps a sign bit, so bits must be in 2..8");
        if (bucketSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, "bucket size must be >= 1, or null for one bucket per tensor");
        if (!Enum.IsDefined(scheme))
            throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "scheme must be Uniform or AbsMax");
        if (!Enum.IsDefined(rounding))
            throw new ArgumentOutOfRangeException(nameof(rounding), rounding, "rounding must be Deterministic or Stochastic");
        Bits = bits;
        BucketSize = bucketSize;
        Scheme = scheme;
        Rounding = rounding;
        Seed = seed;
    }

    public int Bits { get; }

    /// <summary>Elements per bucket, or null for one bucket per tensor.</summary>
    public int? BucketSize { get; }

    public QuantizationScheme Scheme { get; }
    public RoundingMode Rounding { get; }

    /// <summary>Seed of the per-element noise used by stochastic rounding.</summary>
    public ulong Seed { get; }

    /// <summary>Steps between the lowest and highest level: s − 1.</summary>
    public int Steps => Scheme == QuantizationScheme.Uniform ? (1 << Bits) - 1 : (1 << (Bits - 1)) - 1;

    /// <summary>Scales stored per bucket: α and β for uniform, α alone for absmax (β is 0).</summary>
    public int ScalesPerBucket => Scheme == QuantizationScheme.Uniform ? 2 : 1;
}
