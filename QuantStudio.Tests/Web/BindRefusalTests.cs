namespace QuantStudio.Tests.Web;

/// <summary>
/// The addresses Kestrel really bound are checked, whichever setting chose them; an open one without a key ends the process
/// cleanly with a message and a non-zero exit code. Real processes: binding is what is tested.
/// </summary>
public sealed class BindRefusalTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://0.0.0.0:0")]
    [InlineData("urls", "http://0.0.0.0:0")]
    [InlineData("QuantStudio:Urls", "http://[::]:0")]
    public async Task An_open_address_without_a_key_ends_the_process_cleanly(string setting, string url)
    {
        var data = StudioPaths.NewDataDirectory("qs-bind-");
        try
        {
            var settings = new Dictionary<string, string> { [setting] = url };
            if (setting == "QuantStudio:Urls")
                settings["urls"] = ""; // --urls is set by default; without it QuantStudio:Urls decides
            var (exitCode, output) = await StudioProcess.RunToExitAsync(data, settings, TimeSpan.FromSeconds(60));

            Assert.Equal(3, exitCode);
            Assert.Contains("refuses to listen", output);
            Assert.Contains("QuantStudio:ApiKey", output);
            Assert.DoesNotContain("Unhandled exception", output);
        }
        finally
        {
            QuantStudioFactory.DeleteData(data);
        }
    }
}
