namespace QuantStudio.Core.Models;

/// <summary>Applies a spec's width and depth multipliers to channel and block counts.</summary>
internal static class ModelScaling
{
    /// <summary>The largest width or depth multiplier a spec (and a compressed checkpoint) may ask for.</summary>
    public const double MaxMultiplier = 8;

    /// <summary>round(channels × width), at least 1.</summary>
    public static long Channels(long channels, double width) => Math.Max(1, (long)Math.Round(channels * width, MidpointRounding.AwayFromZero));

    /// <summary>round(blocks × depth), at least 1.</summary>
    public static int Blocks(int blocks, double depth) => Math.Max(1, (int)Math.Round(blocks * depth, MidpointRounding.AwayFromZero));

    /// <summary>MobileNet's rule: a multiple of <paramref name="divisor"/>, never below 90% of the request.</summary>
    public static long Divisible(double value, int divisor = 8)
    {
        var v = Math.Max(divisor, (long)(value + divisor / 2.0) / divisor * divisor);
        return v < 0.9 * value ? v + divisor : v;
    }
}
