using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace QuantStudio.Core.Engine;

/// <summary>
/// Settings libtorch reads from the native environment, made before it first needs them. A value
/// the user set is always kept. .NET keeps its own copy of the environment on Unix, so these go
/// through the C library's setenv. Core's module initializer applies them; the CLI and the web
/// app also call <see cref="Initialize"/> first thing, before any tensor exists.
/// </summary>
public static partial class NativeEnvironment
{
    /// <summary>
    /// The defaults:
    /// <list type="bullet">
    /// <item><c>TORCH_CPP_LOG_LEVEL=ERROR</c>: libtorch prints a warning per convolution call on CPUs that NNPACK
    /// does not support ("Could not initialize NNPACK!"), which buries a run's own progress.</item>
    /// <item><c>OMP_WAIT_POLICY=PASSIVE</c>: libtorch's OpenMP threads sleep between parallel regions instead of spinning.
    /// With spinning (libgomp's default) a thread that waits keeps its core busy, and every other thread of the process
    /// (the fused quantizer's parallel loops, the garbage collector, the web server) and every other process waits for
    /// it: on a 2-core machine with other work running, quantized-distillation epochs ran 2–3.5× slower than with
    /// sleeping threads (bench/training, docs/engine.md).</item>
    /// </list>
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["TORCH_CPP_LOG_LEVEL"] = "ERROR",
        ["OMP_WAIT_POLICY"] = "PASSIVE",
    };

    private static int applied;

    /// <summary>Sets each default the environment does not already have; idempotent and cheap.</summary>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref applied, 1) == 1)
            return;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        foreach (var (name, value) in Defaults)
        {
            try
            {
                setenv(name, value, 0);
            }
            catch (EntryPointNotFoundException)
            {
                return;
            }
        }
        ApplyLogLevel();
    }

    /// <summary>
    /// libtorch reads <c>TORCH_CPP_LOG_LEVEL</c> only in <c>c10::initLogging()</c>, which PyTorch's Python module calls on
    /// import and TorchSharp never does: without this call the variable has no effect and every convolution on these CPUs
    /// prints "Could not initialize NNPACK!". libc10 is loaded from where TorchSharp loads it (the application's folder),
    /// so this is the copy libtorch uses.
    /// </summary>
    private static void ApplyLogLevel()
    {
        try
        {
            initLogging();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // No libtorch next to the application (a tool that never trains): nothing to configure.
        }
    }

#pragma warning disable CA2255 // a library initializer is the point: it must run before libtorch reads its environment.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void ApplyOnLoad() => Initialize();

    /// <summary><c>c10::initLogging()</c> (Itanium C++ name, as on Linux and macOS).</summary>
    [LibraryImport("c10", EntryPoint = "_ZN3c1011initLoggingEv")]
    private static partial void initLogging();

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
