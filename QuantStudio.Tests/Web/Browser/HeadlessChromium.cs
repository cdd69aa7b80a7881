using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// Debian's chromium driven by Debian's chromedriver, headless, with a fresh profile and a download folder. The driver
/// and browser paths are given explicitly, so Selenium Manager never looks anything up. Every command is bounded;
/// disposing quits the browser and, should that fail, kills chromedriver and the browser under it by process id.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverDirectory = "/usr/bin";
    public const string DriverName = "chromedriver";

    private readonly ChromeDriverService service;
    private readonly string profile;

    /// <param name="downloadDirectory">Where downloads land.</param>
    /// <param name="extraArguments">More command-line switches for the browser (a load test keeps background tabs at full speed).</param>
    public HeadlessChromium(string downloadDirectory, params string[] extraArguments)
    {
        DownloadDirectory = downloadDirectory;
        Directory.CreateDirectory(downloadDirectory);
        profile = Path.Combine(Path.GetTempPath(), "qs-chromium-" + Guid.NewGuid().ToString("N"));

        service = ChromeDriverService.CreateDefaultService(DriverDirectory, DriverName);
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;

        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check", "--window-size=1400,1000",
            "--user-data-dir=" + profile);
        options.AddArguments(extraArguments);
        options.AddUserProfilePreference("download.default_directory", downloadDirectory);
        options.AddUserProfilePreference("download.prompt_for_download", false);
        options.AddUserProfilePreference("download.directory_upgrade", true);
        options.AddUserProfilePreference("safebrowsing.enabled", false);

        try
        {
            Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            KillService();
            service.Dispose();
            throw;
        }
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        Driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(10);
        Driver.Manage().Timeouts().ImplicitWait = TimeSpan.Zero;
    }

    public ChromeDriver Driver { get; }
    public string DownloadDirectory { get; }

    /// <summary>The chromedriver process; the browser's processes are its descendants.</summary>
    public int DriverProcessId => service.ProcessId;

    /// <summary>Polls <paramref name="condition"/> until it returns a value (not null, not false) or the timeout passes.</summary>
    public T WaitFor<T>(Func<IWebDriver, T> condition, TimeSpan timeout, string what)
    {
        var wait = new WebDriverWait(Driver, timeout) { PollingInterval = TimeSpan.FromMilliseconds(100), Message = "waiting for " + what };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition);
    }

    public object? Script(string script, params object[] args) => Driver.ExecuteScript(script, args);

    public void Screenshot(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Driver.GetScreenshot().SaveAsFile(path);
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        catch (WebDriverException)
        {
            // The driver is gone or hung; the process kill below cleans up.
        }
        KillService();
        service.Dispose();
        try
        {
            if (Directory.Exists(profile))
                Directory.Delete(profile, true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void KillService()
    {
        try
        {
            if (service.ProcessId > 0)
            {
                using var p = Process.GetProcessById(service.ProcessId);
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
            }
        }
        catch (ArgumentException)
        {
            // Already exited.
        }
        catch (InvalidOperationException)
        {
        }
    }
}
