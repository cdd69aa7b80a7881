using System.Runtime.InteropServices;

namespace QuantStudio.Core.Engine;

/// <summary>Process-wide settings of the C library's allocator, which libtorch's CPU tensors come from.</summary>
public static partial class NativeMemory
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int M_ARENA_MAX = -8;

    /// <summary>
    /// Keeps freed CPU tensor memory in the process for reuse instead of returning it to the kernel
    /// (glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD), in one pool (M_ARENA_MAX). With the defaults a
    /// training step page-faults its activations in afresh each time; and with an arena per thread, memory
    /// one thread frees is not what the next step's allocations on another thread reuse: quantized
    /// distillation epochs then took 2.8–4.8 s from one process to the next, against 2.6–2.9 s in one arena
    /// (docs/engine.md). Call this once before training. Returns false where the C library offers no such
    /// setting (not glibc).
    /// </summary>
    public static bool RetainFreedMemory(int mmapThreshold = 32 << 20, int trimThreshold = 1 << 30, int arenas = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mmapThreshold);
        ArgumentOutOfRangeException.ThrowIfNegative(trimThreshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(arenas, 1);
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            if (mallopt(M_MMAP_THRESHOLD, mmapThreshold) != 1)
                throw new ArgumentOutOfRangeException(nameof(mmapThreshold), mmapThreshold, "glibc rejected M_MMAP_THRESHOLD (at most 32 MiB on 64-bit)");
            if (mallopt(M_TRIM_THRESHOLD, trimThreshold) != 1)
                throw new ArgumentOutOfRangeException(nameof(trimThreshold), trimThreshold, "glibc rejected M_TRIM_THRESHOLD");
            if (mallopt(M_ARENA_MAX, arenas) != 1)
                throw new ArgumentOutOfRangeException(nameof(arenas), arenas, "glibc rejected M_ARENA_MAX");
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // musl and other C libraries
        }
    }

    /// <summary>
    /// Hands freed memory back to the system from now on: fixed mmap and trim thresholds of 128 KiB (glibc's starting
    /// values, without its rising mmap threshold, which keeps tensor buffers up to 32 MiB for good), then
    /// <c>malloc_trim(0)</c> for what is held already. For a long-lived process between training runs. Returns false
    /// where the C library offers no such setting (not glibc).
    /// </summary>
    public static bool ReleaseFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            mallopt(M_MMAP_THRESHOLD, 128 << 10);
            mallopt(M_TRIM_THRESHOLD, 128 << 10);
            malloc_trim(0);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
