namespace QuantStudio.Torch;

/// <summary>What the CPU offers, so callers can pick bf16 autocast only where it is native.</summary>
public static class CpuFeatures
{
    private static readonly Lazy<HashSet<string>> Flags = new(ReadFlags);

    /// <summary>True where bf16 matmul/conv run natively (AVX512-BF16 or AMX-BF16).</summary>
    public static bool HasNativeBf16 => Flags.Value.Contains("avx512_bf16") || Flags.Value.Contains("amx_bf16");

    public static bool HasAvx512 => Flags.Value.Contains("avx512f");
    public static bool HasAvx2 => Flags.Value.Contains("avx2");

    /// <summary>The CPU feature flags as the kernel reports them (empty where /proc/cpuinfo is absent).</summary>
    public static IReadOnlyCollection<string> All => Flags.Value;

    private static HashSet<string> ReadFlags()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("flags", StringComparison.Ordinal))
                    continue;
                var colon = line.IndexOf(':');
                foreach (var f in line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    set.Add(f);
                break;
            }
        }
        catch (IOException)
        {
            // Not Linux, or no procfs: report nothing, callers fall back to fp32.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return set;
    }
}
