using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web;

/// <summary>
/// The web app in process, on a temporary data folder, with a scripted runner. The entry type is any type of the web
/// assembly: <c>Program</c> is ambiguous with the CLI's.
/// </summary>
public sealed class QuantStudioFactory : WebApplicationFactory<QuantStudio.Web.Options.QuantStudioOptions>
{
    public QuantStudioFactory(string? dataDirectory = null, ScriptedRunner? runner = null, IDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "qs-web-" + Guid.NewGuid().ToString("N"));
        Runner = runner ?? new ScriptedRunner();
        Settings = settings ?? new Dictionary<string, string?>();
    }

    public string DataDirectory { get; }
    public ScriptedRunner Runner { get; }

    /// <summary>Set before the first request to run this runner (the trainer, say) instead of <see cref="Runner"/>.</summary>
    public IExperimentRunner? OtherRunner { get; init; }
    private IDictionary<string, string?> Settings { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("QuantStudio:DataDirectory", DataDirectory);
        builder.UseSetting("QuantStudio:LiveFrameMilliseconds", "20");
        foreach (var (k, v) in Settings)
            builder.UseSetting(k, v);
        builder.ConfigureTestServices(s => s.AddSingleton(OtherRunner ?? Runner));
    }

    public IRunStore Store => Services.GetRequiredService<IRunStore>();

    /// <summary>Deletes the data folder (call after disposing every factory that used it).</summary>
    public static void DeleteData(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, true);
        }
        catch (IOException)
        {
        }
    }
}

public static class TestSpecs
{
    public static string Json(int bits = 4, string student = "cifar-student-1", string dataset = "shapes", string method = Methods.QuantizedDistillation) =>
        $$"""
        {
          "name": "test run",
          "dataset": { "name": "{{dataset}}" },
          "teacher": { "arch": "cifar-teacher" },
          "student": { "arch": "{{student}}" },
          "method": "{{method}}",
          "quantization": { "bits": {{bits}}, "bucket_size": 256 },
          "optimizer": { "epochs": 1 }
        }
        """;

    public static async Task<long> CreateRunAsync(HttpClient client, string? json = null)
    {
        var res = await client.PostAsync("/api/runs", new StringContent(json ?? Json(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, res.StatusCode);
        var body = await res.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetInt64();
    }

    /// <summary>Polls GET /api/runs/{id} until it has stored at least <paramref name="seq"/> events.</summary>
    public static async Task WaitForLastSeqAsync(HttpClient client, long id, long seq)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
            if (run.GetProperty("last_seq").GetInt64() >= seq)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} stored {run.GetProperty("last_seq")} events, expected {seq}");
            await Task.Delay(20);
        }
    }

    /// <summary>Polls GET /api/runs/{id} until its status is one of <paramref name="statuses"/>.</summary>
    public static Task<JsonElement> WaitForStatusAsync(HttpClient client, long id, params string[] statuses) =>
        WaitForStatusAsync(client, id, TimeSpan.FromSeconds(20), statuses);

    public static async Task<JsonElement> WaitForStatusAsync(HttpClient client, long id, TimeSpan timeout, params string[] statuses)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
            var status = run.GetProperty("run").GetProperty("status").GetString();
            if (statuses.Contains(status))
                return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} stayed {status}, expected {string.Join("/", statuses)}");
            await Task.Delay(20);
        }
    }
}
