using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QuantStudio.Web.Security;

namespace QuantStudio.Tests.Web;

/// <summary>Another site's page cannot change anything, follow runs or be served under its own host name.</summary>
public sealed class CrossOriginTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, HttpContent? content = null, string? origin = null, string? fetchSite = null)
    {
        var r = new HttpRequestMessage(method, url) { Content = content };
        if (origin is not null)
            r.Headers.Add("Origin", origin);
        if (fetchSite is not null)
            r.Headers.Add("Sec-Fetch-Site", fetchSite);
        return r;
    }

    private static FormUrlEncodedContent Form() => new(new Dictionary<string, string> { ["x"] = "1" });

    [Fact]
    public async Task A_cross_origin_cancel_is_refused_and_the_run_keeps_running()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await factory.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var evil = await client.SendAsync(Request(HttpMethod.Post, $"/api/runs/{id}/cancel", Form(), origin: "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, evil.StatusCode);
        var otherPort = await client.SendAsync(Request(HttpMethod.Post, $"/api/runs/{id}/cancel", null, origin: "http://localhost:8080"));
        Assert.Equal(HttpStatusCode.Forbidden, otherPort.StatusCode);
        var sameSite = await client.SendAsync(Request(HttpMethod.Delete, $"/api/runs/{id}", null, fetchSite: "same-site"));
        Assert.Equal(HttpStatusCode.Forbidden, sameSite.StatusCode);
        Assert.Equal("running", (await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}")).GetProperty("run").GetProperty("status").GetString());

        // The server's own pages (same origin) and clients that send no Origin still can.
        var own = await client.SendAsync(Request(HttpMethod.Post, $"/api/runs/{id}/cancel", null, origin: "http://localhost", fetchSite: "same-origin"));
        Assert.Equal(HttpStatusCode.Accepted, own.StatusCode);
        factory.Runner.Gate.Release(100);
    }

    [Fact]
    public async Task A_cross_origin_upload_is_refused_and_not_stored()
    {
        var client = factory.CreateClient();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(UploadTests.Safetensors("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4)), "file", "t.safetensors" },
        };
        var res = await client.SendAsync(Request(HttpMethod.Post, "/api/uploads/teacher", form, origin: "http://evil.example", fetchSite: "cross-site"));
        Assert.Equal(HttpStatusCode.Forbidden, res.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "uploads")) &&
                     Directory.EnumerateFiles(Path.Combine(factory.DataDirectory, "uploads")).Any());
    }

    [Fact]
    public async Task The_api_takes_json_not_the_bodies_a_cross_site_form_can_send()
    {
        var client = factory.CreateClient();
        var plain = await client.PostAsync("/api/runs", new StringContent(TestSpecs.Json(), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        var problem = await plain.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("Content-Type", out _));
        Assert.Contains("application/json", problem.GetProperty("detail").GetString());

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/runs/1/cancel", Form())).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await client.PostAsync("/api/runs", new ByteArrayContent(Encoding.UTF8.GetBytes(TestSpecs.Json())))).StatusCode);
        Assert.Empty(await client.GetFromJsonAsync<JsonElement[]>("/api/runs") ?? []);
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("attacker.example:5000")]
    [InlineData("127.0.0.1.nip.io")]
    public async Task A_foreign_host_name_is_not_served(string host)
    {
        var client = factory.CreateClient();
        foreach (var path in new[] { "/api/runs", "/runs", "/" })
        {
            var r = new HttpRequestMessage(HttpMethod.Get, path);
            r.Headers.Host = host;
            Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(r)).StatusCode);
        }
        foreach (var ok in new[] { "localhost", "127.0.0.1:5000", "[::1]:5000" })
        {
            var r = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
            r.Headers.Host = ok;
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(r)).StatusCode);
        }
    }

    [Fact]
    public async Task A_configured_host_name_is_served()
    {
        using var named = new QuantStudioFactory(settings: new Dictionary<string, string?> { ["QuantStudio:AllowedHosts:0"] = "studio.lan" });
        var r = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        r.Headers.Host = "studio.lan";
        Assert.Equal(HttpStatusCode.OK, (await named.CreateClient().SendAsync(r)).StatusCode);
        QuantStudioFactory.DeleteData(named.DataDirectory);
    }

    [Fact]
    public async Task A_hub_connection_from_another_origin_is_refused()
    {
        var ws = factory.Server.CreateWebSocketClient();
        ws.ConfigureRequest = r => r.Headers.Origin = "http://evil.example";
        await Assert.ThrowsAnyAsync<Exception>(() => ws.ConnectAsync(new Uri("ws://localhost/hubs/runs"), CancellationToken.None));
        var client = factory.CreateClient();
        var negotiate = await client.SendAsync(Request(HttpMethod.Post, "/hubs/runs/negotiate?negotiateVersion=1", null, origin: "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, negotiate.StatusCode);
    }

    [Fact]
    public async Task With_a_key_the_login_cookie_counts_only_on_the_servers_own_origin()
    {
        using var keyed = new QuantStudioFactory(settings: new Dictionary<string, string?> { ["QuantStudio:ApiKey"] = "s3cret" });
        var client = keyed.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var cookie = ApiKeyMiddleware.CookieName + "=" + keyed.Services.GetService(typeof(ApiKeyCookie)) switch
        {
            ApiKeyCookie c => c.Create(),
            _ => throw new InvalidOperationException("no login cookie service"),
        };
        HttpRequestMessage WithCookie(string? origin, string? site)
        {
            var r = Request(HttpMethod.Get, "/api/runs", null, origin, site);
            r.Headers.Add("Cookie", cookie);
            return r;
        }
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(WithCookie(null, null))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(WithCookie("http://localhost", "same-origin"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(WithCookie("http://localhost:8080", "same-site"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(WithCookie(null, "same-site"))).StatusCode);
        QuantStudioFactory.DeleteData(keyed.DataDirectory);
    }
}
