using OpenQA.Selenium;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The New experiment form's number fields in a real browser, typed key by key: each key is checked at once, and a number
/// on its way ("0.", which Chromium reports as empty) is not written over while it is typed.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class FormBrowserTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 180_000)]
    public async Task Number_fields_are_checked_key_by_key_and_keep_what_is_typed()
    {
        await using var host = await StudioHost.StartAsync(StudioRunner.Simulated);
        using var browser = new HeadlessChromium(Path.Combine(host.Server.DataDirectory, "browser-downloads"));
        await Task.Run(() =>
        {
            var driver = browser.Driver;
            driver.Navigate().GoToUrl(new Uri(host.Server.BaseUri, "/new"));
            StudioBrowserTests.WaitForInteractive(browser);

            var bits = driver.FindElement(By.Id("field-bits"));
            bits.SendKeys(Keys.Control + "a");
            bits.SendKeys("12");
            // No change event yet (the field has the focus): the message comes from the keys alone.
            browser.WaitFor(d => d.FindElements(By.Id("error-quantization-bits")).Count == 1, Short, "the message for 12 bits");
            bits.SendKeys(Keys.Backspace);
            browser.WaitFor(d => d.FindElements(By.Id("error-quantization-bits")).Count == 0, Short, "no message for 1 bit");

            var lr = driver.FindElement(By.Id("field-lr"));
            lr.SendKeys(Keys.Control + "a");
            lr.SendKeys("-0.5");
            browser.WaitFor(d => d.FindElements(By.Id("error-optimizer-lr")).Count == 1, Short, "the message for a negative learning rate");
            lr.SendKeys(Keys.Control + "a");
            foreach (var key in "0.003")
            {
                lr.SendKeys(key.ToString());
                Thread.Sleep(150); // each key reaches the server and its answer renders before the next
            }
            browser.WaitFor(d => d.FindElements(By.Id("error-optimizer-lr")).Count == 0, Short, "no message for 0.003");
            Assert.Equal("0.003", lr.GetDomProperty("value"));
        });
    }
}
