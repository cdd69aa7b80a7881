using QuantStudio.Core.Data;

namespace QuantStudio.Core.Training;

/// <summary>
/// Every random draw of a run is keyed by the spec's seed and where it happens, so a run resumed
/// at an epoch boundary replays exactly the draws an uninterrupted run makes from there on.
/// </summary>
public static class RunSeeds
{
    private const long ModelInit = 1, Epoch = 2, PhaseStart = 3, Rounding = 4;

    /// <summary>The weight-initialization seed of a network ("teacher", "student").</summary>
    public static long ForModel(long seed, string role) => (long)DeterministicRandom.Key(seed, ModelInit, StableHash(role)) & long.MaxValue;

    /// <summary>libtorch's generator is reseeded with this before each epoch (dropout and any other torch draw).</summary>
    public static long ForEpoch(long seed, string stage, int phase, int epoch) =>
        (long)DeterministicRandom.Key(seed, Epoch, StableHash(stage), phase, epoch) & long.MaxValue;

    public static long ForPhaseStart(long seed, string stage, int phase) =>
        (long)DeterministicRandom.Key(seed, PhaseStart, StableHash(stage), phase) & long.MaxValue;

    /// <summary>Stochastic rounding noise of one tensor at one step.</summary>
    public static ulong ForRounding(long seed, long step, int tensor) => DeterministicRandom.Key(seed, Rounding, step, tensor);

    // string.GetHashCode is randomized per process; this one is not.
    private static long StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return (long)h;
    }
}
