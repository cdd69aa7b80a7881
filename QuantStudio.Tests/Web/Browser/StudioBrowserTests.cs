using System.Globalization;
using System.Text.RegularExpressions;
using OpenQA.Selenium;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The studio in a real browser: the offline preset started from the form trains live on the page (loss chart, layer
/// histogram), finishes, and its checkpoint downloads. Screenshots go to screenshots/simulated/ in the test output.
/// </summary>
public sealed partial class StudioBrowserTests
{
    public static readonly string ScreenshotDirectory = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private static readonly TimeSpan Short = TimeSpan.FromSeconds(15);

    [Fact(Timeout = 240_000)]
    public async Task The_offline_preset_trains_live_in_the_browser_and_its_checkpoint_downloads()
    {
        // 3 epochs × 40 steps × 100 ms: long enough to watch the chart grow, short enough for CI.
        await using var server = await StudioServer.StartAsync(StudioRunner.Simulated, new Dictionary<string, string>
        {
            ["QuantStudio:SimulatedStepMilliseconds"] = "100",
        });
        var downloads = Path.Combine(server.DataDirectory, "browser-downloads");
        using var browser = new HeadlessChromium(downloads);
        var run = await Task.Run(() => PresetRunToDownload(server, browser, TimeSpan.FromSeconds(60), Path.Combine(ScreenshotDirectory, "simulated")));
        // The simulated runner writes a placeholder of the packed size; the trainer's checkpoint is checked with quantstudio eval.
        Assert.Equal("model.qsc", Path.GetFileName(run.Checkpoint));
    }

    /// <summary>
    /// Runs the offline preset from the form and follows it in the page until its checkpoint is downloaded; returns the
    /// run and the downloaded file. <paramref name="trainingTimeout"/> bounds the wait for the run to finish; the form, the
    /// live run, the finished run and the compare page are saved as PNGs in <paramref name="screenshots"/>.
    /// </summary>
    public static PresetDownload PresetRunToDownload(StudioServer server, HeadlessChromium browser, TimeSpan trainingTimeout, string screenshots,
        bool filesSavedWhileTraining = false)
    {
        var driver = browser.Driver;

        // The form with its presets.
        driver.Navigate().GoToUrl(new Uri(server.BaseUri, "/new"));
        browser.WaitFor(d => d.FindElement(By.Id("preset-run-shapes-cnn-qd4")).Displayed, Short, "the preset button");
        browser.WaitFor(d => d.FindElement(By.Id("estimate-params")).Text.Length > 0, Short, "the size estimate");
        browser.Screenshot(Path.Combine(screenshots, "new-experiment-form.png"));

        driver.FindElement(By.Id("preset-run-shapes-cnn-qd4")).Click();
        var runUrl = browser.WaitFor(d => RunUrl().Match(d.Url) is { Success: true } m ? m : null, Short, "the run page")!;
        var runId = long.Parse(runUrl.Groups[1].Value, CultureInfo.InvariantCulture);

        // The loss chart gains points while the run trains: three increasing readings, each taken while the run is running.
        var readings = new List<int>();
        var deadline = DateTime.UtcNow + trainingTimeout;
        while (readings.Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the loss chart did not grow while the run trained; points seen: {string.Join(", ", readings)}");
            var points = ChartPoints(browser);
            var status = driver.FindElement(By.Id("run-status")).Text;
            if (points > 0 && status == "running" && (readings.Count == 0 || points > readings[^1]))
                readings.Add(points);
            Thread.Sleep(150);
        }
        Assert.Equal(readings.Order(), readings);
        Assert.True(LossTraceLength(browser) >= readings[^1], "the plotted loss trace holds the points the chart reports");
        // The drawn axes follow the data (charts redrawn in place must not keep the range of their first frame).
        foreach (var chart in new[] { "chart-loss", "chart-lr" })
            Assert.True(AxisCoversData(browser, chart), chart + " shows its latest points");

        // The log tells what the run does: its start and its first phase.
        Assert.StartsWith("started ", LogLines(browser)[0]);
        Assert.Contains(LogLines(browser), l => l.StartsWith("phase ", StringComparison.Ordinal));

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
            Assert.Equal("running", driver.FindElement(By.Id("run-status")).Text);
            foreach (var file in new[] { "teacher-safetensors", "checkpoint-safetensors" })
                Assert.NotEmpty(driver.FindElements(By.CssSelector($"#live-download-{file} a[href$='{file.Replace('-', '.')}']")));
            Assert.Empty(driver.FindElements(By.Id("downloads-empty")));
        }
        // The figures under the histogram appear live, for the layer it shows.
        var firstShape = browser.WaitFor(d => d.FindElement(By.Id("layer-shape")).Text is { Length: > 0 } t ? t : null, Short, "the first layer's figures");
        driver.FindElement(By.CssSelector($"#layer-select option[value='{layer}']")).Click();
        browser.WaitFor(d => d.FindElement(By.Id("chart-histogram")).GetAttribute("data-layer") == layer, Short, "the histogram of " + layer);
        Assert.NotEqual(firstShape, driver.FindElement(By.Id("layer-shape")).Text);
        Assert.Equal("4", driver.FindElement(By.Id("layer-bits")).Text);
        Assert.Equal("16", driver.FindElement(By.Id("layer-levels")).Text);
        var bars = Convert.ToInt64(browser.Script(
            "const el = document.getElementById('chart-histogram'); return el.data && el.data.length ? el.data[0].y.length : 0;"), CultureInfo.InvariantCulture);
        Assert.True(bars > 0, "the histogram has bars");
        var levelLines = Convert.ToInt64(browser.Script(
            "const el = document.getElementById('chart-histogram'); return (el.layout && el.layout.shapes) ? el.layout.shapes.length : 0;"), CultureInfo.InvariantCulture);
        Assert.Equal(16, levelLines); // 4 bits: 16 quantization levels drawn over the histogram
        // The live screenshot shows the run mid-training with its histogram.
        browser.Screenshot(Path.Combine(screenshots, "run-live.png"));

        // Completion: the page reloads itself with the final buttons and downloads.
        var link = browser.WaitFor(d =>
        {
            var found = d.FindElements(By.Id("download-model-qsc"));
            return found.Count == 1 && d.FindElement(By.Id("run-status")).Text == "finished" ? found[0] : null;
        }, trainingTimeout, "the finished run with its checkpoint download")!;
        Assert.NotEmpty(driver.FindElements(By.CssSelector("#compression-panel dd, #compression-panel td")));
        Assert.EndsWith("%", driver.FindElement(By.Id("result-student-accuracy")).Text);
        browser.WaitFor(_ => LogLines(browser).Any(l => l.StartsWith("finished", StringComparison.Ordinal)), Short, "the end of the run in the log");
        Assert.Contains(LogLines(browser), l => l.StartsWith("saved model.qsc (", StringComparison.Ordinal));
        browser.Screenshot(Path.Combine(screenshots, "run-finished.png"));

        link.Click();
        var downloaded = Path.Combine(browser.DownloadDirectory, "model.qsc");
        browser.WaitFor(_ => File.Exists(downloaded) && !Directory.EnumerateFiles(browser.DownloadDirectory, "*.crdownload").Any(), TimeSpan.FromSeconds(20),
            "model.qsc in the download folder");
        var served = Path.Combine(server.DataDirectory, "runs", runId.ToString(CultureInfo.InvariantCulture), "model.qsc");
        Assert.Equal(["model.qsc"], Directory.EnumerateFiles(browser.DownloadDirectory).Select(Path.GetFileName));
        Assert.True(new FileInfo(downloaded).Length > 0, "the checkpoint is not empty");
        Assert.Equal(File.ReadAllBytes(served), File.ReadAllBytes(downloaded));

        // The compare page with this run: its accuracy–size point and its curves, tall enough to show all three charts.
        driver.Manage().Window.Size = new System.Drawing.Size(1400, 2000);
        driver.Navigate().GoToUrl(new Uri(server.BaseUri, $"/compare?ids={runId}"));
        browser.WaitFor(d => Convert.ToInt64(browser.Script(
            "const el = document.getElementById('chart-scatter'); return el && el.data && el.data.length ? el.data[0].x.length : 0;"), CultureInfo.InvariantCulture) > 0,
            Short, "the accuracy against size scatter");
        // The size axis is labelled at 1, 2 and 5 times powers of ten around the point, written in full.
        var ticks = ((IReadOnlyCollection<object>)browser.Script(
            "return document.getElementById('chart-scatter').layout.xaxis.ticktext;")!).Select(t => double.Parse((string)t, CultureInfo.InvariantCulture)).ToList();
        Assert.True(ticks.Count >= 2, $"size ticks: {string.Join(", ", ticks)}");
        Assert.All(ticks, t => Assert.Contains(Math.Round(t / Math.Pow(10, Math.Floor(Math.Log10(t))), 6), new[] { 1.0, 2.0, 5.0 }));
        var packedMb = Convert.ToDouble(browser.Script(
            "return document.getElementById('chart-scatter').data[0].x[0];"), CultureInfo.InvariantCulture);
        Assert.InRange(packedMb, ticks.Min(), ticks.Max());
        browser.Screenshot(Path.Combine(screenshots, "compare.png"));
        return new PresetDownload(runId, downloaded);
    }

    /// <summary>The log panel's lines without their times.</summary>
    private static IReadOnlyList<string> LogLines(HeadlessChromium browser) =>
        ((IEnumerable<object>)browser.Script(
            "return [...document.querySelectorAll('#log li')].map(li => li.textContent.replace(/^\\S*\\s/, ''));")!).Cast<string>().ToList();

    private static int ChartPoints(HeadlessChromium browser)
    {
        var value = browser.Driver.FindElement(By.Id("chart-loss")).GetAttribute("data-points");
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private static long LossTraceLength(HeadlessChromium browser) => Convert.ToInt64(browser.Script(
        "const el = document.getElementById('chart-loss'); return el.data && el.data.length ? el.data[0].x.length : 0;"), CultureInfo.InvariantCulture);

    private static bool AxisCoversData(HeadlessChromium browser, string id) => browser.Script("""
        const el = document.getElementById(arguments[0]);
        if (!el.data || !el.data.length || !el._fullLayout) return false;
        const x = el.data[0].x;
        return x.length > 0 && el._fullLayout.xaxis.range[1] >= x[x.length - 1];
        """, id) is true;

    [GeneratedRegex(@"/runs/(\d+)$")]
    private static partial Regex RunUrl();
}

/// <summary>The run a preset started from the form, and its model.qsc as the browser downloaded it.</summary>
public sealed record PresetDownload(long RunId, string Checkpoint);
