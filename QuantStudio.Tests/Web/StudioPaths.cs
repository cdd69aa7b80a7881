namespace QuantStudio.Tests.Web;

/// <summary>Where the web project and its built app are, found from the test's own output folder.</summary>
public static class StudioPaths
{
    /// <summary>QuantStudio.Web.dll as copied into the test output by the project reference.</summary>
    public static string WebAssembly
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "QuantStudio.Web.dll");
            if (!File.Exists(dll))
                throw new FileNotFoundException($"QuantStudio.Web.dll is not in the test output {AppContext.BaseDirectory}; build the solution", dll);
            return dll;
        }
    }

    /// <summary>The QuantStudio.Web project folder (it holds wwwroot with the installed front-end libraries).</summary>
    public static string WebProjectDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "QuantStudio.Web");
                if (File.Exists(Path.Combine(candidate, "QuantStudio.Web.csproj")))
                    return candidate;
            }
            throw new DirectoryNotFoundException($"no QuantStudio.Web/QuantStudio.Web.csproj above {AppContext.BaseDirectory}");
        }
    }

    public static string WebRoot => Path.Combine(WebProjectDirectory, "wwwroot");

    public static string NewDataDirectory(string prefix) => Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
}
