using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace QuantStudio.Tests.Web;

/// <summary>
/// bUnit 2.15 is built against AngleSharp.Diffing 1.x, which the package feed does not carry; the 0.17 release it does
/// carry has the same types bUnit constructs for every rendered component. This maps the request onto it, the way a
/// binding redirect would.
/// </summary>
internal static class BunitAssemblyResolution
{
    [ModuleInitializer]
    internal static void Install() => AssemblyLoadContext.Default.Resolving += (context, name) =>
    {
        if (name.Name is not "AngleSharp.Diffing")
            return null;
        var path = Path.Combine(AppContext.BaseDirectory, "AngleSharp.Diffing.dll");
        return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
    };
}
