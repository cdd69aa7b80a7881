using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace QuantStudio.Core.Engine;

/// <summary>
/// libtorch prints warnings straight to stderr, among them one per convolution call on CPUs that
/// NNPACK does not support ("Could not initialize NNPACK! Reason: Unsupported hardware"), which
/// buries a run's own progress. Before libtorch loads, its log level is set to errors only, unless
/// the user chose one (TORCH_CPP_LOG_LEVEL). .NET keeps its own copy of the environment on Unix, so
/// the native environment is set through the C library.
/// </summary>
internal static partial class NativeLogging
{
#pragma warning disable CA2255 // a library initializer is the point: it must run before any libtorch call.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void QuietLibTorchWarnings()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        try
        {
            setenv("TORCH_CPP_LOG_LEVEL", "ERROR", 0);
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
