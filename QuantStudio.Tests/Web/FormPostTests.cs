using System.Net;
using System.Text.RegularExpressions;

namespace QuantStudio.Tests.Web;

/// <summary>The server-rendered pages end to end: the form posts with its anti-forgery token and binds.</summary>
public sealed partial class FormPostTests : IDisposable
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

    private static Dictionary<string, string> Fields(string token, string method, int bits) => new()
    {
        ["_handler"] = "new-experiment",
        ["__RequestVerificationToken"] = token,
        ["Form.Method"] = method,
        ["Form.Dataset"] = "shapes",
        ["Form.TeacherSource"] = "train",
        ["Form.TeacherArch"] = "cifar-teacher",
        ["Form.TeacherWidth"] = "1",
        ["Form.Student"] = "cifar-student-2",
        ["Form.StudentWidth"] = "1",
        ["Form.StudentDepth"] = "1",
        ["Form.Bits"] = bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Form.BucketSize"] = "256",
        ["Form.Scheme"] = "uniform",
        ["Form.PointInit"] = "quantile",
        ["Form.Temperature"] = "2",
        ["Form.Alpha"] = "0.7",
        ["Form.SelfStudyingEpochs"] = "1",
        ["Form.CoStudyingEpochs"] = "1",
        ["Form.TutoringEpochs"] = "2",
        ["Form.Optimizer"] = "sgd",
        ["Form.Lr"] = "0.05",
        ["Form.Epochs"] = "2",
        ["Form.BatchSize"] = "64",
        ["Form.Seed"] = "7",
    };

    [Fact]
    public async Task Posting_the_form_starts_a_run_and_redirects_to_it()
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetStringAsync("/new");
        Assert.Contains("id=\"new-experiment-form\"", page);
        var res = await client.PostAsync("/new", new FormUrlEncodedContent(Fields(AntiforgeryToken(page), "quantized_distillation", 3)));
        Assert.Equal(HttpStatusCode.Redirect, res.StatusCode);
        var location = res.Headers.Location!.OriginalString;
        Assert.Matches("/runs/\\d+$", location);
        var id = long.Parse(location.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var run = await factory.Store.GetRunAsync(id);
        var spec = run!.TryReadSpec()!;
        Assert.Equal(3, spec.Quantization.Bits);
        Assert.Equal("cifar-student-2", spec.Student.Arch);
        Assert.Equal(7, spec.Seed);
        Assert.Equal(2, spec.Optimizer.Epochs);
        Assert.NotNull(spec.Teacher);

        var detail = await client.GetStringAsync(location);
        Assert.Contains("id=\"chart-loss\"", detail);
        Assert.Contains("id=\"layer-select\"", detail);
    }

    [Fact]
    public async Task An_invalid_form_shows_the_message_next_to_the_field()
    {
        var client = factory.CreateClient();
        var page = await client.GetStringAsync("/new");
        var res = await client.PostAsync("/new", new FormUrlEncodedContent(Fields(AntiforgeryToken(page), "post_training", 11)));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var html = await res.Content.ReadAsStringAsync();
        Assert.Contains("id=\"error-quantization-bits\"", html);
        Assert.Contains("1 to 8", html);
        Assert.Empty(await factory.Store.ListRunsAsync());
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused()
    {
        var client = factory.CreateClient();
        var fields = Fields("", "quantized_distillation", 4);
        fields.Remove("__RequestVerificationToken");
        var res = await client.PostAsync("/new", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        Assert.Empty(await factory.Store.ListRunsAsync());
    }

    [Fact]
    public async Task A_preset_starts_its_runs()
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetStringAsync("/new");
        var res = await client.PostAsync("/new", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "run-preset", ["__RequestVerificationToken"] = AntiforgeryToken(page), ["Preset"] = "shapes-cnn-qd4",
        }));
        Assert.Equal(HttpStatusCode.Redirect, res.StatusCode);
        var run = Assert.Single(await factory.Store.ListRunsAsync());
        Assert.Equal("shapes", run.Dataset);
    }

    [Fact]
    public async Task The_method_query_renders_its_sections_without_script()
    {
        var client = factory.CreateClient();
        var qkd = await client.GetStringAsync("/new?method=qkd");
        Assert.Matches("id=\"section-qkd\"[^>]*data-methods=\"qkd\"(?![^>]*hidden)", qkd);
        var full = await client.GetStringAsync("/new?method=full_precision");
        Assert.Matches("id=\"section-quantization\"[^>]*hidden", full);
        Assert.Matches("id=\"section-teacher\"[^>]*hidden", full);
    }

    [Fact]
    public async Task Every_page_renders()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        foreach (var url in new[] { "/", "/new", "/runs", "/runs?sort=accuracy&dir=asc&status=finished", $"/runs/{id}", $"/compare?ids={id}", "/compare", "/login" })
        {
            var res = await client.GetAsync(url);
            Assert.True(res.StatusCode == HttpStatusCode.OK, $"{url}: {res.StatusCode}");
            Assert.DoesNotContain("blazor.web.js", await res.Content.ReadAsStringAsync());
        }
        var detail = await client.GetStringAsync($"/runs/{id}");
        Assert.Contains("conv1.weight", detail);
        Assert.Contains("id=\"compression-ratio\"", detail);
        Assert.Contains("model.qsc", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/no-such-page")).StatusCode);
    }

    [Fact]
    public async Task The_run_page_buttons_cancel_and_delete()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "running");
        var page = await client.GetStringAsync($"/runs/{id}");
        Assert.Contains("id=\"action-cancel\"", page);
        var cancel = await client.PostAsync($"/runs/{id}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "run-action", ["__RequestVerificationToken"] = AntiforgeryToken(page), ["Action"] = "cancel",
        }));
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, "cancelled");
        page = await client.GetStringAsync($"/runs/{id}");
        Assert.Contains("id=\"action-resume\"", page);
        var delete = await client.PostAsync($"/runs/{id}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "run-action", ["__RequestVerificationToken"] = AntiforgeryToken(page), ["Action"] = "delete",
        }));
        Assert.Equal(HttpStatusCode.Redirect, delete.StatusCode);
        Assert.Null(await factory.Store.GetRunAsync(id));
    }
}
