using System.Runtime.CompilerServices;

namespace QuantStudio.Tests.Engine;

internal static class TestAssemblySetup
{
    /// <summary>libtorch's environment, as the CLI and the web app set it, before any test touches a tensor.</summary>
    [ModuleInitializer]
    internal static void Initialize() => Core.Engine.NativeEnvironment.Initialize();
}
