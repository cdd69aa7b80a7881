using System.Globalization;
using System.Text.RegularExpressions;
using OpenQA.Selenium;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The studio in a real browser, as a user goes through it: the form switches sections live, the offline preset starts
/// from it and trains live on the page (the loss chart grows, a layer's histogram is chosen), the server restarts mid-run
/// and the page comes back rebuilt from the run's history, the run resumes and finishes, its checkpoint downloads, and the
/// runs and compare pages show it. Screenshots of every page go to screenshots/simulated/ in the test output.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class StudioBrowserTests
{
    public static readonly string ScreenshotDirectory = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private static readonly TimeSpan Short = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 480_000)]
    public async Task The_offline_preset_runs_live_in_the_browser_through_a_server_restart_and_its_checkpoint_downloads()
    {
        // 250 ms a step (5 epochs of 40 steps, 50 s a run): long enough to watch the chart grow and restart mid-run on a
        // busy machine, short enough for CI.
        await using var host = await StudioHost.StartAsync(StudioRunner.Simulated, new Dictionary<string, string>
        {
            ["QuantStudio:SimulatedStepMilliseconds"] = "250",
        });
        var downloads = Path.Combine(host.Server.DataDirectory, "browser-downloads");
        using var browser = new HeadlessChromium(downloads);
        var run = await Task.Run(() => PresetRunToDownload(host, browser, TimeSpan.FromSeconds(180), Path.Combine(ScreenshotDirectory, "simulated"),
            restartMidRun: true));
        // The simulated runner writes a placeholder of the packed size; the trainer's checkpoint is checked with quantstudio eval.
        Assert.Equal("model.qsc", Path.GetFileName(run.Checkpoint));
    }

    /// <summary>
    /// Runs the offline preset from the form and follows it in the page until its checkpoint is downloaded; returns the
    /// run and the downloaded file. With <paramref name="restartMidRun"/> the server restarts while the run trains: the
    /// page must come back with the chart rebuilt from the stored events and the run resumable, and it is resumed from
    /// the page. <paramref name="trainingTimeout"/> bounds each wait on training; every page is saved as a PNG in
    /// <paramref name="screenshots"/>.
    /// </summary>
    public static PresetDownload PresetRunToDownload(StudioHost host, HeadlessChromium browser, TimeSpan trainingTimeout, string screenshots,
        bool filesSavedWhileTraining = false, bool restartMidRun = false)
    {
        var driver = browser.Driver;

        // The form: interactive once the circuit is up (a click before that would be lost).
        driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/new"));
        WaitForInteractive(browser);
        browser.WaitFor(d => d.FindElement(By.Id("estimate-params")).Text.Length > 0, Short, "the size estimate");

        // Sections follow the method without a reload; the estimate follows the bits.
        Choose(browser, "field-method", "qkd");
        browser.WaitFor(d => d.FindElement(By.Id("section-qkd")).Displayed, Short, "the QKD phases for qkd");
        Assert.True(driver.FindElement(By.Id("section-activations")).Displayed);
        Choose(browser, "field-method", "full_precision");
        browser.WaitFor(d => !d.FindElement(By.Id("section-quantization")).Displayed, Short, "no quantization for full precision");
        Assert.False(driver.FindElement(By.Id("section-teacher")).Displayed);
        Choose(browser, "field-method", "quantized_distillation");
        browser.WaitFor(d => d.FindElement(By.Id("section-quantization")).Displayed, Short, "quantization for quantized distillation");
        var packed4 = driver.FindElement(By.Id("estimate-packed")).Text;
        Choose(browser, "field-bits", "2");
        browser.WaitFor(d => d.FindElement(By.Id("estimate-packed")).Text != packed4, Short, "the estimate at 2 bits");
        Choose(browser, "field-bits", "12");
        browser.WaitFor(d => d.FindElements(By.Id("error-quantization-bits")).Count == 1, Short, "the message for 12 bits");
        browser.Screenshot(Path.Combine(screenshots, "new-experiment-form.png"));

        driver.FindElement(By.Id("preset-run-shapes-cnn-qd4")).Click();
        var runUrl = browser.WaitFor(d => RunUrl().Match(d.Url) is { Success: true } m ? m : null, Short, "the run page")!;
        var runId = long.Parse(runUrl.Groups[1].Value, CultureInfo.InvariantCulture);
        WaitForInteractive(browser);

        // The loss chart gains points while the run trains: three increasing readings, each taken while the run is running.
        var readings = new List<long>();
        var deadline = DateTime.UtcNow + trainingTimeout;
        while (readings.Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the loss chart did not grow while the run trained; points seen: {string.Join(", ", readings)}");
            var points = LossTraceLength(browser);
            if (points > 0 && Status(browser) == "running" && (readings.Count == 0 || points > readings[^1]))
                readings.Add(points);
            Thread.Sleep(150);
        }
        // The drawn axes follow the data (points extended into a chart must widen its range).
        foreach (var chart in new[] { "chart-loss", "chart-lr" })
            browser.WaitFor(_ => AxisCoversData(browser, chart), Short, chart + " showing its latest points");

        // The log tells what the run does: its start and its first phase.
        Assert.StartsWith("started ", LogLines(browser)[0]);
        Assert.Contains(LogLines(browser), l => l.StartsWith("phase ", StringComparison.Ordinal));

        // Early in the run, while it surely still trains: restart the server, find the page rebuilt, resume the run.
        if (restartMidRun)
            RestartMidRun(host, browser, runId, screenshots);

        // The layer histogram: choose the second layer once snapshots have arrived and check the chart shows it.
        var layer = browser.WaitFor(d =>
        {
            var options = d.FindElements(By.CssSelector("#layer-select option"));
            return options.Count >= 2 ? options[1].GetAttribute("value") : null;
        }, trainingTimeout, "layer snapshots in the layer selector")!;
        // Files saved during the run join the downloads while it trains: by the student's first layer snapshot the
        // trainer has written the teacher and a training checkpoint (the simulated runner writes only model.qsc, at the end).
        if (filesSavedWhileTraining)
        {
            Assert.Equal("running", Status(browser));
            foreach (var file in new[] { "teacher-safetensors", "checkpoint-safetensors" })
                browser.WaitFor(d => d.FindElements(By.CssSelector($"#download-{file}[href$='{file.Replace('-', '.')}']")).Count == 1, Short, file + " in the downloads");
            Assert.Empty(driver.FindElements(By.Id("downloads-empty")));
        }
        var firstShape = browser.WaitFor(d => d.FindElement(By.Id("layer-shape")).Text is { Length: > 0 } t ? t : null, Short, "the first layer's figures");
        Choose(browser, "layer-select", layer);
        browser.WaitFor(d => d.FindElement(By.Id("chart-histogram-box")).GetAttribute("data-layer") == layer, Short, "the histogram of " + layer);
        Assert.NotEqual(firstShape, driver.FindElement(By.Id("layer-shape")).Text);
        Assert.Equal("4", driver.FindElement(By.Id("layer-bits")).Text);
        Assert.Equal("16", driver.FindElement(By.Id("layer-levels")).Text);
        browser.WaitFor(_ => Count(browser, "const el = document.getElementById('chart-histogram'); return el.layout && el.layout.title && el.layout.title.text.startsWith(arguments[0]) ? el.data[0].y.length : 0;", layer) > 0,
            Short, "bars of " + layer);
        // 4 bits: 16 quantization levels drawn over the histogram.
        Assert.Equal(16, Count(browser, "const el = document.getElementById('chart-histogram'); return (el.layout && el.layout.shapes) ? el.layout.shapes.length : 0;"));
        browser.Screenshot(Path.Combine(screenshots, "run-live.png"));


        // Completion: the buttons, the result and the downloads follow the run's end without a reload.
        var link = browser.WaitFor(d =>
        {
            var found = d.FindElements(By.Id("download-model-qsc"));
            return found.Count == 1 && Status(browser) == "finished" ? found[0] : null;
        }, trainingTimeout, "the finished run with its checkpoint download")!;
        browser.WaitFor(d => d.FindElements(By.CssSelector("#compression-panel dd, #compression-panel td")).Count > 0, Short, "the compression panel");
        browser.WaitFor(d => d.FindElements(By.Id("result-student-accuracy")).Count == 1, Short, "the result panel");
        Assert.EndsWith("%", driver.FindElement(By.Id("result-student-accuracy")).Text);
        Assert.NotEmpty(driver.FindElements(By.Id("action-delete")));
        Assert.Empty(driver.FindElements(By.Id("action-cancel")));
        browser.WaitFor(_ => LogLines(browser).Any(l => l.StartsWith("finished", StringComparison.Ordinal)), Short, "the end of the run in the log");
        Assert.Contains(LogLines(browser), l => l.StartsWith("saved model.qsc (", StringComparison.Ordinal));
        browser.Screenshot(Path.Combine(screenshots, "run-finished.png"));

        link.Click();
        var downloaded = Path.Combine(browser.DownloadDirectory, "model.qsc");
        browser.WaitFor(_ => File.Exists(downloaded) && !Directory.EnumerateFiles(browser.DownloadDirectory, "*.crdownload").Any(), TimeSpan.FromSeconds(20),
            "model.qsc in the download folder");
        var served = Path.Combine(host.Server.DataDirectory, "runs", runId.ToString(CultureInfo.InvariantCulture), "model.qsc");
        Assert.Equal(["model.qsc"], Directory.EnumerateFiles(browser.DownloadDirectory).Select(Path.GetFileName));
        Assert.True(new FileInfo(downloaded).Length > 0, "the checkpoint is not empty");
        Assert.Equal(File.ReadAllBytes(served), File.ReadAllBytes(downloaded));

        // The runs page lists it finished; choosing it and comparing opens the compare page with it.
        driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/runs"));
        WaitForInteractive(browser);
        browser.WaitFor(d => d.FindElement(By.CssSelector($"#run-row-{runId} [data-field=status]")).Text == "finished", Short, "the run in the table");
        browser.Screenshot(Path.Combine(screenshots, "runs.png"));
        driver.FindElement(By.Id($"compare-{runId}")).Click();
        browser.WaitFor(d => d.FindElement(By.Id("compare-selected")).Enabled, Short, "the compare button");
        driver.FindElement(By.Id("compare-selected")).Click();
        browser.WaitFor(d => d.Url.EndsWith($"/compare?ids={runId}", StringComparison.Ordinal), Short, "the compare page");

        // The compare page with this run: its accuracy–size point on the frontier, and its curves.
        driver.Manage().Window.Size = new System.Drawing.Size(1400, 2000);
        WaitForInteractive(browser);
        browser.WaitFor(_ => Count(browser, "const el = document.getElementById('chart-scatter'); return el && el.data && el.data.length ? el.data[0].x.length : 0;") == 1,
            Short, "the run on the accuracy against size frontier");
        Assert.Equal(runId.ToString(CultureInfo.InvariantCulture), driver.FindElement(By.CssSelector("[data-chart=chart-scatter]")).GetAttribute("data-frontier"));
        // The size axis is labelled at 1, 2 and 5 times powers of ten around the point, written in full.
        var ticks = ((IReadOnlyCollection<object>)browser.Script(
            "return document.getElementById('chart-scatter').layout.xaxis.ticktext;")!).Select(t => double.Parse((string)t, CultureInfo.InvariantCulture)).ToList();
        Assert.True(ticks.Count >= 2, $"size ticks: {string.Join(", ", ticks)}");
        Assert.All(ticks, t => Assert.Contains(Math.Round(t / Math.Pow(10, Math.Floor(Math.Log10(t))), 6), new[] { 1.0, 2.0, 5.0 }));
        var packedMb = Convert.ToDouble(browser.Script("return document.getElementById('chart-scatter').data[0].x[0];"), CultureInfo.InvariantCulture);
        Assert.InRange(packedMb, ticks.Min(), ticks.Max());
        Assert.Contains("bucket 256", (string)browser.Script("return document.getElementById('chart-scatter').data[0].hovertext[0];")!);
        browser.WaitFor(_ => Count(browser, "const el = document.getElementById('chart-compare-loss'); return el && el.data && el.data.length ? el.data[0].x.length : 0;") > 0,
            Short, "the run's validation loss curve");
        browser.Screenshot(Path.Combine(screenshots, "compare.png"));
        return new PresetDownload(runId, downloaded);
    }

    /// <summary>
    /// Restarts the server while the run trains. The page reloads itself once the new process answers (its circuit is gone),
    /// replays the stored events into the charts, shows the run interrupted, and resumes it from its Resume button.
    /// </summary>
    private static void RestartMidRun(StudioHost host, HeadlessChromium browser, long runId, string screenshots)
    {
        var driver = browser.Driver;
        Assert.Equal("running", Status(browser));
        browser.Script("window.beforeRestart = true;");
        var pointsBefore = LossTraceLength(browser);
        host.RestartAsync().GetAwaiter().GetResult();

        browser.WaitFor(_ => browser.Script("return window.beforeRestart === undefined;") is true, TimeSpan.FromSeconds(60), "the page reloaded after the restart");
        WaitForInteractive(browser);
        Assert.EndsWith($"/runs/{runId}", driver.Url);
        try
        {
            browser.WaitFor(_ => Status(browser) == "interrupted", Short, "the run shown interrupted");
        }
        catch (WebDriverTimeoutException)
        {
            browser.Screenshot(Path.Combine(screenshots, "run-after-restart-failed.png"));
            Assert.Fail($"after the restart the run shows '{Status(browser)}', not interrupted; stored: {host.Server.Store.GetRunAsync(runId).GetAwaiter().GetResult()?.Status}; " +
                        $"log: {string.Join(" | ", LogLines(browser))}");
        }
        browser.WaitFor(_ => LossTraceLength(browser) >= pointsBefore, Short, $"the loss chart rebuilt from the history ({pointsBefore} points before the restart)");
        Assert.StartsWith("started ", LogLines(browser)[0]);
        browser.Screenshot(Path.Combine(screenshots, "run-after-restart.png"));

        driver.FindElement(By.Id("action-resume")).Click();
        // "Queued to resume" shows while the run waits for the runner (here, hardly at all) and goes once it runs.
        browser.WaitFor(_ => Status(browser) == "running", Short, "the run resumed");
        browser.WaitFor(d => d.FindElements(By.Id("action-message")).Count == 0, Short, "no resume notice once the run runs");
    }

    /// <summary>Waits until the page's circuit is up and its components handle events.</summary>
    internal static void WaitForInteractive(HeadlessChromium browser) =>
        browser.WaitFor(d => d.FindElements(By.CssSelector("main[data-interactive=true]")).Count == 1, Short, "the page to become interactive");

    /// <summary>Sets a select or input and fires the change event the page listens to.</summary>
    private static void Choose(HeadlessChromium browser, string id, string value) => browser.Script("""
        const el = document.getElementById(arguments[0]);
        el.value = arguments[1];
        el.dispatchEvent(new Event('change', { bubbles: true }));
        """, id, value);

    private static string Status(HeadlessChromium browser) => browser.Driver.FindElement(By.Id("run-status")).Text;

    private static long Count(HeadlessChromium browser, string script, params object[] args) =>
        Convert.ToInt64(browser.Script(script, args), CultureInfo.InvariantCulture);

    /// <summary>The log panel's lines without their times.</summary>
    private static IReadOnlyList<string> LogLines(HeadlessChromium browser) =>
        ((IEnumerable<object>)browser.Script(
            "return [...document.querySelectorAll('#log li')].map(li => li.textContent.replace(/^\\S*\\s/, ''));")!).Cast<string>().ToList();

    private static long LossTraceLength(HeadlessChromium browser) => Count(browser,
        "const el = document.getElementById('chart-loss'); return el && el.data && el.data.length ? el.data[0].x.length : 0;");

    private static bool AxisCoversData(HeadlessChromium browser, string id) => browser.Script("""
        const el = document.getElementById(arguments[0]);
        if (!el || !el.data || !el.data.length || !el._fullLayout) return false;
        const x = el.data[0].x;
        return x.length > 0 && el._fullLayout.xaxis.range[1] >= x[x.length - 1];
        """, id) is true;

    [GeneratedRegex(@"/runs/(\d+)$")]
    private static partial Regex RunUrl();
}

/// <summary>The run a preset started from the form, and its model.qsc as the browser downloaded it.</summary>
public sealed record PresetDownload(long RunId, string Checkpoint);
