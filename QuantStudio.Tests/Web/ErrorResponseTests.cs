using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Web;

/// <summary>Bad input gets a clear answer naming the field, never a 500 or a .NET type name.</summary>
public sealed class ErrorResponseTests : IDisposable
{
    private readonly QuantStudioFactory factory = new(settings: new Dictionary<string, string?> { ["QuantStudio:MaxUploadBytes"] = "4096" });

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_multipart_upload_over_the_limit_without_a_content_length_gets_413_from_kestrel()
    {
        var data = StudioPaths.NewDataDirectory("qs-upload-");
        try
        {
            using var studio = await StudioProcess.StartAsync(data, new Dictionary<string, string> { ["QuantStudio:MaxUploadBytes"] = "4096" });
            using var client = studio.CreateClient();
            using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[200_000]), "file", "big.safetensors" } };
            var bytes = await form.ReadAsByteArrayAsync();
            var res = await client.PostAsync("api/uploads/teacher", new UnsizedContent(bytes, form.Headers.ContentType!.ToString()).Init());
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
            Assert.DoesNotContain("Unhandled", studio.Output);
        }
        finally
        {
            QuantStudioFactory.DeleteData(data);
        }
    }

    [Fact]
    public async Task Compare_with_a_bad_or_unknown_id_gets_a_400_or_404_page()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);

        var bad = await client.GetAsync("/compare?ids=abc");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not a run id", await bad.Content.ReadAsStringAsync());

        var unknown = await client.GetAsync($"/compare?ids={id},99999");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("Not found", await unknown.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/compare?ids={id}")).StatusCode);
    }

    [Fact]
    public async Task A_negative_epoch_count_is_one_error_under_epochs()
    {
        var res = await factory.CreateClient().PostAsync("/api/runs",
            new StringContent(TestSpecs.Json().Replace("\"epochs\": 1", "\"epochs\": -3"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var errors = (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["optimizer.epochs"], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_described_in_words()
    {
        var res = await factory.CreateClient().PostAsync("/api/runs",
            new StringContent(TestSpecs.Json().Replace("\"bits\": 4", "\"bits\": \"four\""), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var body = await res.Content.ReadAsStringAsync();
        Assert.DoesNotContain("System.", body);
        var message = JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty("quantization.bits")[0].GetString();
        Assert.Contains("an integer", message);
    }

    [Fact]
    public async Task A_query_value_of_the_wrong_type_or_a_missing_one_names_the_field()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        var res = await client.GetAsync($"/api/runs/{id}/events?afterSeq=abc");
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("'abc' is not a whole number", problem.GetProperty("errors").GetProperty("afterSeq")[0].GetString());
        Assert.Contains("afterSeq", problem.GetProperty("detail").GetString());

        var width = await client.GetAsync("/api/estimate?arch=cifar-student-1&width=wide");
        Assert.Equal(HttpStatusCode.BadRequest, width.StatusCode);
        Assert.Contains("is not a number", (await width.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("width")[0].GetString());
        var missing = await client.GetAsync("/api/estimate");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("is required", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("arch")[0].GetString());
    }

    [Fact]
    public async Task Delete_right_after_cancel_waits_for_the_cancel_instead_of_refusing()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        factory.Runner.CancelDelay = TimeSpan.FromMilliseconds(500);
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await factory.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Delete_of_a_running_run_not_being_cancelled_is_still_refused()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await factory.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        factory.Runner.Gate.Release(100);
    }

    [Fact]
    public async Task The_trainers_cancel_reason_names_no_command_line_flag()
    {
        var dir = Path.Combine(factory.DataDirectory, "trainer-cancel");
        var events = new ListEventSink();
        var context = new RunContext(SpecJson.Parse(TestSpecs.Json()), dir, new RunEventStream([events]), false, factory.DataDirectory);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ExperimentRunner().RunAsync(context, new CancellationToken(canceled: true)));
        var cancelled = Assert.IsType<RunCancelled>(Assert.Single(events.Events));
        Assert.DoesNotContain("--", cancelled.Reason);
        Assert.Contains("resume", cancelled.Reason);
    }
}

/// <summary>Content that reports no length, so it goes out chunked, without a Content-Length.</summary>
internal sealed class UnsizedContent(byte[] bytes, string contentType) : HttpContent
{
    public UnsizedContent Init()
    {
        Headers.TryAddWithoutValidation("Content-Type", contentType);
        return this;
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
