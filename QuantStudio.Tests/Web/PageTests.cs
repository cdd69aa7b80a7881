using System.Net;
using System.Text.RegularExpressions;

namespace QuantStudio.Tests.Web;

/// <summary>The pages as the server first sends them (prerendered, before the circuit starts), and the files that make them interactive.</summary>
public sealed partial class PageTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    public static string AntiforgeryToken(string html) => WebUtility.HtmlDecode(TokenPattern().Match(html).Groups[1].Value);

    [Fact]
    public async Task Every_page_prerenders_and_loads_the_interactive_script()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        foreach (var url in new[] { "/", "/new", "/runs", "/runs?sort=accuracy&dir=asc&status=finished", $"/runs/{id}", $"/compare?ids={id}", "/compare" })
        {
            var res = await client.GetAsync(url);
            Assert.True(res.StatusCode == HttpStatusCode.OK, $"{url}: {res.StatusCode}");
            var html = await res.Content.ReadAsStringAsync();
            Assert.Contains("<script src=\"_framework/blazor.web.js\"></script>", html);
            // Prerendered for an interactive circuit: the markers the browser uses to start it, and not yet interactive.
            Assert.Contains("<!--Blazor:{", html);
            Assert.Contains("data-interactive=\"false\"", html);
        }
        Assert.Contains($"id=\"run-row-{id}\"", await client.GetStringAsync("/runs"));
        Assert.Contains("id=\"run-status\">finished<", await client.GetStringAsync($"/runs/{id}"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/no-such-page")).StatusCode);
    }

    [Fact]
    public async Task The_login_page_is_a_plain_form_without_a_circuit()
    {
        var html = await factory.CreateClient().GetStringAsync("/login");
        Assert.Contains("<form method=\"post\" action=\"/login\"", html);
        Assert.DoesNotContain("<!--Blazor:{", html);
        Assert.NotEmpty(AntiforgeryToken(html));
    }

    [Fact]
    public async Task A_preset_link_fills_the_form()
    {
        var html = await factory.CreateClient().GetStringAsync("/new?preset=char-lstm");
        Assert.Matches("<option value=\"char-lstm\" selected", SelectBlock(html, "field-student"));
        Assert.Matches("<option value=\"text-synthetic\" selected", SelectBlock(html, "field-dataset"));
        Assert.Matches("id=\"section-qkd\"[^>]*hidden", html);
    }

    [Theory]
    [InlineData("/_framework/blazor.web.js", "text/javascript")]
    [InlineData("/_content/Plotly.Blazor/plotly-interop-7.2.0.js", "text/javascript")]
    [InlineData("/_content/Plotly.Blazor/plotly-3.7.0.min.js", "text/javascript")]
    [InlineData("/QuantStudio.Web.styles.css", "text/css")]
    [InlineData("/site.css", "text/css")]
    public async Task The_interactive_script_chart_library_and_styles_are_served(string path, string type)
    {
        var res = await factory.CreateClient().GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal(type, res.Content.Headers.ContentType?.MediaType);
        Assert.True((await res.Content.ReadAsByteArrayAsync()).Length > 100, path);
    }

    private static string SelectBlock(string html, string id)
    {
        var start = html.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, id);
        return html[start..html.IndexOf("</select>", start, StringComparison.Ordinal)];
    }
}
