using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QuantStudio.Tests.Web;

namespace QuantStudio.Tests.Sweeps;

public sealed class SweepsApiTests : IDisposable
{
    private readonly List<QuantStudioFactory> factories = [];

    public void Dispose()
    {
        foreach (var f in factories)
        {
            f.Runner.Gate?.Release(1000);
            f.Dispose();
            QuantStudioFactory.DeleteData(f.DataDirectory);
        }
    }

    private QuantStudioFactory Factory(QuantStudioFactory factory)
    {
        factories.Add(factory);
        return factory;
    }

    public const string BaseSpec = """
        { "method": "post_training", "student": { "arch": "cifar-student-1" }, "dataset": { "name": "shapes" }, "optimizer": { "epochs": 1 } }
        """;

    public static string Sweep(string axes, string spec = BaseSpec, string? name = null) =>
        $$"""{ {{(name is null ? "" : $"\"name\": \"{name}\",")}} "spec": {{spec}}, "axes": {{axes}} }""";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PostExpectingProblemAsync(HttpClient client, string body)
    {
        var res = await client.PostAsync("/api/sweeps", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType!.MediaType);
        return await res.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Message(JsonElement problem, string field) =>
        Assert.Single(problem.GetProperty("errors").GetProperty(field).EnumerateArray()).GetString()!;

    private static async Task<JsonElement> WaitUntilEndedAsync(HttpClient client, long id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var sweep = await client.GetFromJsonAsync<JsonElement>($"/api/sweeps/{id}");
            if (sweep.GetProperty("has_ended").GetBoolean())
                return sweep;
            Assert.True(DateTime.UtcNow < deadline, $"sweep {id} did not end: {sweep}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_posted_sweep_stores_its_runs_with_the_sweep_id_and_each_is_queued_and_run()
    {
        var factory = Factory(new QuantStudioFactory());
        factory.Runner.Gate = new SemaphoreSlim(0);
        var client = factory.CreateClient();

        var res = await client.PostAsync("/api/sweeps",
            Json(Sweep("""[{"path": "quantization.bits", "values": [2, 4]}, {"path": "method", "values": ["post_training", "qat"]}]""", name: "bits by method")));

        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        var created = await res.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal($"/api/sweeps/{id}", res.Headers.Location!.OriginalString);
        Assert.Equal("bits by method", created.GetProperty("name").GetString());
        var runIds = created.GetProperty("run_ids").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.Equal(4, runIds.Count);
        Assert.Equal(["bits=2 method=post_training", "bits=2 method=qat", "bits=4 method=post_training", "bits=4 method=qat"],
            created.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()));

        // Stored with the sweep's id, in order, each spec with its own values; none has ended.
        var stored = await factory.Store.ListSweepRunsAsync(id);
        Assert.Equal(runIds, stored.Select(r => r.Id));
        Assert.All(stored, r => Assert.Equal(id, r.SweepId));
        Assert.All(stored, r => Assert.True(r.Status.IsActive(), r.Status.ToName()));
        Assert.Equal([2, 2, 4, 4], stored.Select(r => r.TryReadSpec()!.Quantization.Bits));
        Assert.Equal(["post_training", "qat", "post_training", "qat"], stored.Select(r => r.Method));

        // The queue runs them: the first starts (one at a time here), and all finish once the runner may go on.
        await TestSpecs.WaitForStatusAsync(client, runIds[0], "running");
        factory.Runner.Gate.Release(1000);
        var sweep = await WaitUntilEndedAsync(client, id);
        Assert.All(sweep.GetProperty("runs").EnumerateArray(), r => Assert.Equal("finished", r.GetProperty("status").GetString()));
        Assert.Equal([2, 2, 4, 4], factory.Runner.Contexts.OrderBy(c => c.OutputDirectory).Select(c => c.Spec.Quantization.Bits));

        var first = sweep.GetProperty("runs")[1];
        Assert.Equal(2, first.GetProperty("values").GetProperty("quantization.bits").GetInt32());
        Assert.Equal("qat", first.GetProperty("values").GetProperty("method").GetString());
        Assert.Equal(0.8, first.GetProperty("accuracy").GetDouble());
        Assert.Equal(600, first.GetProperty("packed_bytes").GetDouble());
        Assert.Equal(6.67, first.GetProperty("compression_ratio").GetDouble());

        // Each run names its sweep, and a run made alone names none.
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{runIds[2]}");
        Assert.Equal(id, detail.GetProperty("run").GetProperty("sweep_id").GetInt64());
        var single = await client.PostAsync("/api/runs", Json(BaseSpec));
        var alone = (await single.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var aloneDetail = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{alone}");
        Assert.Equal(JsonValueKind.Null, aloneDetail.GetProperty("run").GetProperty("sweep_id").ValueKind);

        var list = await client.GetFromJsonAsync<JsonElement[]>("/api/sweeps");
        var listed = Assert.Single(list!);
        Assert.Equal(id, listed.GetProperty("id").GetInt64());
        Assert.Equal(4, listed.GetProperty("runs").GetInt32());
        Assert.Equal(4, listed.GetProperty("statuses").GetProperty("finished").GetInt32());
    }

    [Fact]
    public async Task The_sweep_names_the_runs_on_its_frontier()
    {
        // 8 bits is larger than 4 and less accurate: dominated. 2 is the smallest, 4 the most accurate.
        var factory = Factory(new QuantStudioFactory { OtherRunner = new FiguresRunner(new Dictionary<int, double> { [2] = 0.5, [4] = 0.8, [8] = 0.79 }) });
        var client = factory.CreateClient();
        var res = await client.PostAsync("/api/sweeps", Json(Sweep("""[{"path": "quantization.bits", "values": [2, 4, 8]}]""")));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        var id = (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var sweep = await WaitUntilEndedAsync(client, id);
        var runs = sweep.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([true, true, false], runs.Select(r => r.GetProperty("on_frontier").GetBoolean()));
        Assert.Equal(runs.Take(2).Select(r => r.GetProperty("id").GetInt64()), sweep.GetProperty("frontier").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("accuracy", sweep.GetProperty("score").GetString());
        Assert.Equal(FiguresRunner.PackedBytes(8), runs[2].GetProperty("packed_bytes").GetDouble());
    }

    [Fact]
    public async Task Bad_sweeps_are_refused_naming_the_field_and_nothing_is_stored()
    {
        var factory = Factory(new QuantStudioFactory(settings: new Dictionary<string, string?> { ["QuantStudio:Sweeps:MaxRuns"] = "4" }));
        var client = factory.CreateClient();

        var unknown = await PostExpectingProblemAsync(client, Sweep("""[{"path": "quantization.bitz", "values": [2]}]"""));
        Assert.Contains("did you mean quantization.bits", Message(unknown, "axes[0].path"));

        var wrongType = await PostExpectingProblemAsync(client, Sweep("""[{"path": "quantization.bits", "values": [2, "four"]}]"""));
        Assert.Equal("quantization.bits takes a whole number; \"four\" is not one", Message(wrongType, "axes[0].values[1]"));

        var combination = await PostExpectingProblemAsync(client,
            Sweep("""[{"path": "quantization.bits", "values": [2, 9]}, {"path": "method", "values": ["post_training", "full_precision"]}]"""));
        Assert.Equal("run \"bits=9 method=post_training\": quantization.bits: 9 is out of range; allowed: 1 to 8", Message(combination, "axes[0]"));
        Assert.Equal("The sweep is invalid", combination.GetProperty("title").GetString());

        // The server's own checks apply to every run too: a text model cannot read the image set.
        var serverCheck = await PostExpectingProblemAsync(client, Sweep("""[{"path": "student.arch", "values": ["cifar-student-1", "char-lstm"]}]"""));
        Assert.StartsWith("run \"arch=char-lstm\": student.arch: model 'char-lstm' reads text", Message(serverCheck, "axes[0]"));

        var tooMany = await PostExpectingProblemAsync(client, Sweep("""[{"path": "quantization.bits", "values": [2, 4, 8]}, {"path": "seed", "values": [1, 2]}]"""));
        Assert.Equal("the sweep makes 6 runs (3 × 2 values); at most 4 are allowed (set by QuantStudio:Sweeps:MaxRuns)", Message(tooMany, "axes"));

        var noSpec = await PostExpectingProblemAsync(client, """{ "axes": [{"path": "quantization.bits", "values": [2]}] }""");
        Assert.Contains("is required", Message(noSpec, "spec"));
        var badSpec = await PostExpectingProblemAsync(client, Sweep("""[{"path": "quantization.bits", "values": [2]}]""", spec: """{ "optimizer": { "lr": -1 } }"""));
        Assert.Equal("must be in (0, 10]", Message(badSpec, "spec.optimizer.lr"));
        var noAxes = await PostExpectingProblemAsync(client, Sweep("[]"));
        Assert.Contains("at least one axis", Message(noAxes, "axes"));
        var axisShape = await PostExpectingProblemAsync(client, Sweep("""[{"path": "quantization.bits", "value": [2]}]"""));
        Assert.Contains("unknown field", Message(axisShape, "axes[0].value"));
        Assert.Contains("is required", Message(axisShape, "axes[0].values"));
        var malformed = await PostExpectingProblemAsync(client, """{ "spec": { """);
        Assert.Contains("malformed JSON", Message(malformed, "body"));

        var text = await client.PostAsync("/api/sweeps", new StringContent(Sweep("[]"), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);

        Assert.Empty(await factory.Store.ListRunsAsync());
        Assert.Empty(await factory.Store.ListSweepsAsync());
        Assert.Empty(factory.Runner.Contexts);
    }

    [Fact]
    public async Task An_unknown_sweep_is_404_and_the_sweepable_fields_are_listed()
    {
        var client = Factory(new QuantStudioFactory()).CreateClient();
        var res = await client.GetAsync("/api/sweeps/999");
        Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("sweep 999 does not exist", problem.GetProperty("detail").GetString());

        var fields = await client.GetFromJsonAsync<JsonElement[]>("/api/sweeps/fields");
        var bits = Assert.Single(fields!, f => f.GetProperty("path").GetString() == "quantization.bits");
        Assert.Equal("a whole number", bits.GetProperty("takes").GetString());
        Assert.Contains(fields!, f => f.GetProperty("path").GetString() == "quantization.bucket_size" && f.GetProperty("takes").GetString() == "a whole number or null");
        Assert.DoesNotContain(fields!, f => f.GetProperty("path").GetString() == "name");
    }
}
