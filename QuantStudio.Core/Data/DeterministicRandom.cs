using System.Numerics;

namespace QuantStudio.Core.Data;

/// <summary>
/// xoshiro256** seeded through SplitMix64. The data pipeline uses it instead of <see cref="Random"/>
/// because every shuffle, split, generated image and augmentation must be reproducible from the
/// spec's seed on any machine and runtime version; each stream is keyed by a tuple such as
/// (seed, purpose, epoch, example) so work can run in parallel and still give the same bytes.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong s0, s1, s2, s3;
    private double? spareGaussian;

    public DeterministicRandom(ulong seed)
    {
        var x = seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    /// <summary>A generator for one stream, keyed by the seed and any number of stream coordinates.</summary>
    public static DeterministicRandom For(long seed, params ReadOnlySpan<long> stream) => new(Key(seed, stream));

    /// <summary>Hashes a seed and stream coordinates into one 64-bit key (order-sensitive).</summary>
    public static ulong Key(long seed, params ReadOnlySpan<long> stream)
    {
        var h = (ulong)seed ^ 0x9E3779B97F4A7C15UL;
        h = SplitMix(ref h);
        foreach (var part in stream)
        {
            var x = h ^ ((ulong)part * 0xD1B54A32D192ED03UL);
            h = SplitMix(ref x);
        }
        return h;
    }

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = BitOperations.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        // The high word of a 64x64-bit product: unbiased enough for any int range and free of modulo.
        return (int)Math.BigMul(NextUInt64(), (ulong)maxExclusive, out _);
    }

    /// <summary>Uniform on [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int min, int maxExclusive) => min + NextInt(maxExclusive - min);

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    public bool NextBool(double probabilityOfTrue = 0.5) => NextDouble() < probabilityOfTrue;

    /// <summary>Standard normal (Box–Muller, the second value cached).</summary>
    public double NextGaussian()
    {
        if (spareGaussian is { } spare)
        {
            spareGaussian = null;
            return spare;
        }
        double u1;
        do
            u1 = NextDouble();
        while (u1 <= double.Epsilon);
        var u2 = NextDouble();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        spareGaussian = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A uniformly random permutation of 0 .. n-1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++)
            p[i] = i;
        for (var i = n - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Stream identifiers, so two purposes never draw from the same random sequence.</summary>
internal static class RandomStreams
{
    public const long Split = 1;
    public const long EpochOrder = 2;
    public const long Augment = 3;
    public const long ShapesTrain = 4;
    public const long ShapesTest = 5;
    public const long TextTrain = 6;
    public const long TextTest = 7;
}
