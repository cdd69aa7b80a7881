using System.Runtime.InteropServices;

namespace QuantStudio.Torch.Interop;

/// <summary>P/Invoke declarations for libqstorch, one partial file per shim area.</summary>
internal static unsafe partial class LibTorch
{
    internal const string Lib = "qstorch";

    [LibraryImport(Lib)] internal static partial IntPtr THSTorch_get_and_reset_last_err();
    [LibraryImport(Lib)] internal static partial void THSTorch_free_string(IntPtr s);
    [LibraryImport(Lib)] internal static partial long THSTensor_live_count();
    [LibraryImport(Lib)] internal static partial int THSTorch_manual_seed(long seed);
    [LibraryImport(Lib)] internal static partial int THSTorch_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int THSTorch_get_num_threads();
    [LibraryImport(Lib)] internal static partial int THSTorch_set_num_interop_threads(int n);
    [LibraryImport(Lib)] internal static partial int THSTorch_cuda_is_available();
    [LibraryImport(Lib)] internal static partial int THSTorch_cuda_device_count();
    [LibraryImport(Lib)] internal static partial IntPtr THSTorch_version();
    [LibraryImport(Lib)] internal static partial IntPtr THSTorch_config();
    [LibraryImport(Lib)] internal static partial int THSAutograd_is_grad_enabled();
    [LibraryImport(Lib)] internal static partial void THSAutograd_set_grad_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial int THSAutocast_is_cpu_enabled();
    [LibraryImport(Lib)] internal static partial int THSAutocast_set_cpu_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial sbyte THSAutocast_get_cpu_dtype();
    [LibraryImport(Lib)] internal static partial int THSAutocast_set_cpu_dtype(sbyte dtype);
    [LibraryImport(Lib)] internal static partial int THSAutocast_increment_nesting();
    [LibraryImport(Lib)] internal static partial int THSAutocast_decrement_nesting();
    [LibraryImport(Lib)] internal static partial void THSAutocast_clear_cache();
    [LibraryImport(Lib)] internal static partial int THSTorch_retain_freed_memory(long mmap_threshold, long trim_threshold);
}
