namespace QuantStudio.Core.Quantization.Reference;

/// <summary>
/// The per-element uniform draw in [0, 1) the native kernel uses for stochastic rounding:
/// SplitMix64 of (seed, index). Being counter based, it gives the same result for any thread
/// count, and this managed copy reproduces the kernel bit for bit.
/// </summary>
public static class StochasticRoundingNoise
{
    public static float Uniform01(ulong seed, long index)
    {
        unchecked
        {
            var z = seed + 0x9E3779B97F4A7C15UL * ((ulong)index + 1UL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 40) * (1.0f / 16777216.0f);
        }
    }
}
