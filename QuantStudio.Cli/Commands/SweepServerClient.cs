using System.Net;
using System.Text;
using System.Text.Json;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Sweeps;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio sweep --server URL`: posts the sweep to POST /api/sweeps (the server checks every run and queues them),
/// prints its id and its runs' ids, and with --wait polls GET /api/sweeps/{id} until every run has ended, then prints the
/// table and the frontier as a sweep run here does.
/// </summary>
internal sealed class SweepServerClient(string server, string? apiKey, HttpMessageHandler? handler, TimeSpan pollInterval)
{
    public const string ApiKeyHeader = "X-Api-Key";

    public int Run(SweepRequest request, string specPath, bool wait, TextWriter stdout, TextWriter stderr) =>
        RunAsync(request, specPath, wait, stdout, stderr).GetAwaiter().GetResult();

    private async Task<int> RunAsync(SweepRequest request, string specPath, bool wait, TextWriter stdout, TextWriter stderr)
    {
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new UsageException($"--server must be an http:// or https:// address, got '{server}'");
        string body;
        try
        {
            body = SweepRequestJson.Write(request);
        }
        catch (JsonException e)
        {
            throw new InputException($"'{specPath}' is not valid JSON: {QuantStudio.Core.Experiments.JsonErrorText.Describe(e)}");
        }

        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.BaseAddress = baseUri;
        client.Timeout = TimeSpan.FromSeconds(60);
        if (!string.IsNullOrEmpty(apiKey))
            client.DefaultRequestHeaders.Add(ApiKeyHeader, apiKey);

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var created = await SendAsync(client, HttpMethod.Post, "api/sweeps", body, HttpStatusCode.Created, cancel.Token);
            var id = created.GetProperty("id").GetInt64();
            var runs = created.GetProperty("runs").EnumerateArray().ToList();
            stdout.WriteLine($"sweep {id} \"{created.GetProperty("name").GetString()}\": {runs.Count} runs queued on {baseUri}");
            stdout.WriteLine("run ids: " + string.Join(" ", runs.Select(r => r.GetProperty("id").GetInt64())));
            if (!wait)
                return 0;

            var ended = -1;
            while (true)
            {
                var sweep = await SendAsync(client, HttpMethod.Get, $"api/sweeps/{id}", null, HttpStatusCode.OK, cancel.Token);
                var now = sweep.GetProperty("ended").GetInt32();
                if (now != ended)
                    stderr.WriteLine($"sweep {id}: {now} of {runs.Count} runs ended");
                ended = now;
                if (sweep.GetProperty("has_ended").GetBoolean())
                    return Report(sweep, stdout, stderr);
                await Task.Delay(pollInterval, cancel.Token);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            stderr.WriteLine($"quantstudio sweep: stopped waiting; the sweep goes on on {baseUri} (GET /api/sweeps/<id> follows it)");
            return 130;
        }
        catch (HttpRequestException e)
        {
            throw new InputException($"cannot reach {baseUri}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new InputException($"{baseUri} did not answer within {client.Timeout.TotalSeconds:0} s");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The sweep's table and frontier from the server's answer; exit 1 when a run did not finish.</summary>
    private static int Report(JsonElement sweep, TextWriter stdout, TextWriter stderr)
    {
        var axes = sweep.GetProperty("axes").EnumerateArray()
            .Select(a => new SweepAxis(a.GetProperty("path").GetString()!, a.GetProperty("values").EnumerateArray().Select(v => v.Clone()).ToList()))
            .ToList();
        var outcomes = sweep.GetProperty("runs").EnumerateArray().Select(r =>
        {
            var values = r.GetProperty("values");
            return new SweepRunOutcome(r.GetProperty("id").GetInt64(), r.GetProperty("name").GetString()!,
                RunStatusNames.Parse(r.GetProperty("status").GetString()!),
                axes.Select(a => values.TryGetProperty(a.Path, out var v) && v.ValueKind != JsonValueKind.Null ? v.Clone() : (JsonElement?)null).ToList(),
                Number(r, "accuracy"), Number(r, "perplexity"), Number(r, "packed_bytes"), Number(r, "compression_ratio"), "", null, null);
        }).ToList();
        SweepTable.Write(stdout, axes, outcomes);
        var notFinished = outcomes.Where(o => o.Status != RunStatus.Finished).ToList();
        if (notFinished.Count == 0)
            return 0;
        stderr.WriteLine($"quantstudio sweep: {notFinished.Count} of {outcomes.Count} runs did not finish: " +
                         string.Join(", ", notFinished.Select(o => $"run {o.Id} {o.Status.ToName()}")));
        return CommandRunner.ExitInputError;
    }

    private static double? Number(JsonElement run, string name) =>
        run.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    /// <summary>Sends a request and reads the JSON answer; any other status is one line naming what the server said.</summary>
    private static async Task<JsonElement> SendAsync(HttpClient client, HttpMethod method, string path, string? body, HttpStatusCode expected,
        CancellationToken ct)
    {
        using var message = new HttpRequestMessage(method, path);
        if (body is not null)
            message.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(message, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode == expected)
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        throw new InputException($"{method} {client.BaseAddress}{path}: {(int)response.StatusCode} {Problem(text, response.ReasonPhrase)}");
    }

    /// <summary>A ProblemDetails' title and detail, or the reason phrase when the answer is not one.</summary>
    private static string Problem(string text, string? reason)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            return string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s))) is { Length: > 0 } said ? said : reason ?? "";
        }
        catch (JsonException)
        {
            return reason ?? "";
        }
    }
}
