using System.Runtime.InteropServices;
using QuantStudio.Core.Engine;
using TorchSharp;

namespace QuantStudio.Tests.Engine;

public sealed partial class NativeEnvironmentTests
{
    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    private static string? Native(string name) => Marshal.PtrToStringUTF8(getenv(name));

    [Fact]
    public void Defaults_reach_the_native_environment_that_libtorch_reads_and_a_value_set_by_the_user_is_kept()
    {
        NativeEnvironment.Initialize();
        foreach (var (name, value) in NativeEnvironment.Defaults)
        {
            // .NET keeps its own copy of the environment: this is what the process started with.
            var fromUser = Environment.GetEnvironmentVariable(name);
            Assert.Equal(fromUser ?? value, Native(name));
        }
    }

    [Fact]
    public void Libtorch_logs_at_the_level_of_TORCH_CPP_LOG_LEVEL()
    {
        NativeEnvironment.Initialize();
        // c10's own flag, read where libtorch reads it: 0 info, 1 warning, 2 error (TORCH_CPP_LOG_LEVEL=ERROR, the default).
        using var probe = torch.zeros(1); // libtorch is loaded
        var c10 = NativeLibrary.Load("c10", typeof(torch).Assembly, DllImportSearchPath.AssemblyDirectory);
        var level = Marshal.ReadInt32(NativeLibrary.GetExport(c10, "FLAGS_caffe2_log_level"));
        var expected = (Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL") ?? "ERROR").ToUpperInvariant() switch
        {
            "INFO" or "0" => 0,
            "WARNING" or "1" => 1,
            "ERROR" or "2" => 2,
            _ => 3,
        };
        Assert.Equal(expected, level);
    }
}
