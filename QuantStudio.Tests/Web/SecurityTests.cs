using System.Net;
using QuantStudio.Web.Security;

namespace QuantStudio.Tests.Web;

public sealed class SecurityTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://127.0.0.1:5000;http://localhost:5001", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:5000", false)]
    [InlineData("http://192.168.1.10:5000", false)]
    [InlineData("http://[::]:5000", false)]
    public void Only_loopback_addresses_start_without_a_key(string urls, bool allowed)
    {
        if (allowed)
        {
            Assert.Null(BindAddressGuard.Refusal([urls], null));
        }
        else
        {
            Assert.Contains("QuantStudio:ApiKey", BindAddressGuard.Refusal([urls], ""));
            Assert.Null(BindAddressGuard.Refusal([urls], "a-key")); // with a key it starts
        }
    }

    [Fact]
    public async Task With_a_key_the_api_and_hub_need_it_and_pages_redirect_to_login()
    {
        using var factory = new QuantStudioFactory(settings: new Dictionary<string, string?> { ["QuantStudio:ApiKey"] = "s3cret" });
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/hubs/runs/negotiate?negotiateVersion=1", null)).StatusCode);
        var page = await client.GetAsync("/runs");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/site.css")).StatusCode);

        var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        wrong.Headers.Add(ApiKeyMiddleware.HeaderName, "nope");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
        var right = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        right.Headers.Add(ApiKeyMiddleware.HeaderName, "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(right)).StatusCode);

        // Logging in with the form sets a cookie that opens the pages.
        var loginPage = await (await client.GetAsync("/login")).Content.ReadAsStringAsync();
        var token = PageTests.AntiforgeryToken(loginPage);
        var login = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["apiKey"] = "s3cret", ["returnUrl"] = "/runs",
        }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").First(c => c.StartsWith(ApiKeyMiddleware.CookieName, StringComparison.Ordinal));
        var withCookie = new HttpRequestMessage(HttpMethod.Get, "/runs");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(withCookie)).StatusCode);
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }
}
