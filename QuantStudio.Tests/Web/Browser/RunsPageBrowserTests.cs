using OpenQA.Selenium;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The runs page in a real browser: its filters and sort go into the address as they change, without loading the page
/// again; a search typed quickly keeps every key; a reload, or another address for the page, shows the list it names.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RunsPageBrowserTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 180_000)]
    public async Task The_filters_and_sort_live_in_the_address_and_survive_a_reload()
    {
        await using var host = await StudioHost.StartAsync(StudioRunner.Simulated);
        using var browser = new HeadlessChromium(Path.Combine(host.Server.DataDirectory, "browser-downloads"));
        await Task.Run(() =>
        {
            var driver = browser.Driver;
            driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/runs"));
            StudioBrowserTests.WaitForInteractive(browser);
            browser.Script("window.notReloaded = true;");

            browser.Script("""
                const el = document.getElementById('filter-status');
                el.value = 'finished';
                el.dispatchEvent(new Event('change', { bubbles: true }));
                """);
            driver.FindElement(By.Id("filter-q")).SendKeys("resnet distilled");
            driver.FindElement(By.Id("sort-name")).Click();
            driver.FindElement(By.Id("sort-name")).Click();
            browser.WaitFor(d => Query(d).Contains("sort=name", StringComparison.Ordinal) && Query(d).Contains("dir=asc", StringComparison.Ordinal),
                Short, "the sort in the address");
            var query = Query(driver);
            Assert.Contains("status=finished", query);
            Assert.Contains("q=resnet%20distilled", query);
            // Every key typed is still in the field: the addresses coming back from the browser did not set it back.
            Assert.Equal("resnet distilled", driver.FindElement(By.Id("filter-q")).GetDomProperty("value"));
            Assert.Equal(true, browser.Script("return window.notReloaded === true;"));

            driver.Navigate().Refresh();
            StudioBrowserTests.WaitForInteractive(browser);
            Assert.Equal("finished", driver.FindElement(By.Id("filter-status")).GetDomProperty("value"));
            Assert.Equal("resnet distilled", driver.FindElement(By.Id("filter-q")).GetDomProperty("value"));
            Assert.Contains("↑", driver.FindElement(By.Id("sort-name")).Text);

            // Another address for the page (a link followed in place) shows the list it names.
            browser.Script("window.notReloaded = true; Blazor.navigateTo('/runs?status=failed&sort=packed');");
            browser.WaitFor(d => d.FindElement(By.Id("filter-status")).GetDomProperty("value") == "failed", Short, "the status from the new address");
            Assert.Equal("", driver.FindElement(By.Id("filter-q")).GetDomProperty("value"));
            Assert.Contains("↓", driver.FindElement(By.Id("sort-packed")).Text);
            Assert.Equal(true, browser.Script("return window.notReloaded === true;"));
        });
    }

    private static string Query(IWebDriver driver) => new Uri(driver.Url).Query;
}
