using System.Globalization;
using System.Text.RegularExpressions;
using OpenQA.Selenium;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// A sweep in a real browser: an axis added on the New experiment form shows the number of runs it makes, Start sweep
/// opens the sweep's page, which follows its runs to the end and draws accuracy against packed size with the frontier.
/// Screenshots go to screenshots/sweeps/ in the test output.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class SweepBrowserTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 240_000)]
    public async Task A_sweep_started_from_the_form_runs_to_the_end_on_its_page_with_the_frontier_drawn()
    {
        await using var host = await StudioHost.StartAsync(StudioRunner.Simulated, new Dictionary<string, string>
        {
            ["QuantStudio:SimulatedStepMilliseconds"] = "5",
            ["QuantStudio:SimulatedStepsPerEpoch"] = "5",
        });
        var screenshots = Path.Combine(StudioBrowserTests.ScreenshotDirectory, "sweeps");
        using var browser = new HeadlessChromium(Path.Combine(host.Server.DataDirectory, "browser-downloads"));
        await Task.Run(() =>
        {
            var driver = browser.Driver;
            driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/new"));
            StudioBrowserTests.WaitForInteractive(browser);

            driver.FindElement(By.Id("axis-add")).Click();
            browser.WaitFor(d => d.FindElements(By.Id("axis-path-0")).Count == 1, Short, "the first axis");
            browser.Script("""
                const el = document.getElementById('axis-path-0');
                el.value = 'quantization.bits';
                el.dispatchEvent(new Event('change', { bubbles: true }));
                """);
            // Choosing the field fills in the form's current value; type over it.
            var values = driver.FindElement(By.Id("axis-values-0"));
            values.SendKeys(Keys.Control + "a");
            values.SendKeys("2, 4, 8");
            browser.WaitFor(d => d.FindElement(By.Id("axis-values-0")).GetDomProperty("value") == "2, 4, 8", Short, "the typed values");
            browser.WaitFor(d => d.FindElement(By.Id("sweep-run-count")).Text.Contains("3 runs", StringComparison.Ordinal), Short,
                "the run count of three bit-widths");
            Assert.Equal("Start sweep", driver.FindElement(By.Id("submit-experiment")).Text);
            browser.Screenshot(Path.Combine(screenshots, "new-sweep-form.png"));

            driver.FindElement(By.Id("submit-experiment")).Click();
            var url = browser.WaitFor(d => SweepUrl().Match(d.Url) is { Success: true } m ? m : null, Short, "the sweep page")!;
            var sweepId = long.Parse(url.Groups[1].Value, CultureInfo.InvariantCulture);
            StudioBrowserTests.WaitForInteractive(browser);

            // The page follows the runs live: every run ends without a reload, and the chart holds each finished run.
            browser.WaitFor(d => d.FindElement(By.Id("sweep-detail")).GetAttribute("data-ended") == "3", TimeSpan.FromSeconds(150),
                "all three runs ended on the sweep page");
            browser.WaitFor(d => browser.Script("""
                const el = document.querySelector('[id^="chart-sweep-pareto-"]');
                return el && el.data ? el.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0;
                """) is long n && n >= 3, Short, "the three finished runs on the chart");
            var rows = driver.FindElements(By.CssSelector("#sweep-runs tr[data-run-id]"));
            Assert.Equal(3, rows.Count);
            Assert.Contains(rows, r => r.GetAttribute("data-frontier") == "true");
            browser.Screenshot(Path.Combine(screenshots, "sweep.png"));

            // The stored sweep is the one the form described.
            var runs = host.Server.Store.ListSweepRunsAsync(sweepId).GetAwaiter().GetResult();
            Assert.Equal([2, 4, 8], runs.Select(r => r.TryReadSpec()!.Quantization.Bits).Order());

            driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/sweeps"));
            StudioBrowserTests.WaitForInteractive(browser);
            browser.Screenshot(Path.Combine(screenshots, "sweeps.png"));
        });
    }

    [GeneratedRegex(@"/sweeps/(\d+)$")]
    private static partial Regex SweepUrl();
}
