using System.Globalization;
using System.Net;
using System.Text.Json;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Tests.Web;
using static QuantStudio.Tests.Export.OnnxFixtures;

namespace QuantStudio.Tests.Export;

/// <summary>POST /api/runs/{id}/export/onnx: the run's model.qsc becomes a downloadable ONNX artifact.</summary>
public sealed class OnnxExportApiTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private string RunDirectory(long id) => Path.Combine(factory.DataDirectory, "runs", id.ToString(CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_finished_runs_model_is_exported_listed_and_downloaded()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        // The simulated runner writes a placeholder model.qsc: put a real checkpoint in its place.
        var qsc = Path.Combine(RunDirectory(id), "model.qsc");
        File.Copy(SaveModel(RunDirectory(id), "cifar-student-3", Cifar, 1, _ => new UniformEncoding(4, 256, "uniform")), qsc, overwrite: true);

        var res = await client.PostAsync($"/api/runs/{id}/export/onnx?weights=lowbit", null);
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        using var body = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        var artifact = body.RootElement.GetProperty("artifact");
        Assert.Equal("model-lowbit.onnx", artifact.GetProperty("name").GetString());
        Assert.Equal(new FileInfo(qsc).Length, body.RootElement.GetProperty("qsc_bytes").GetInt64());
        var onnxBytes = body.RootElement.GetProperty("onnx_bytes").GetInt64();

        Assert.Contains("model-lowbit.onnx", await client.GetStringAsync($"/api/runs/{id}/artifacts"));
        var downloaded = await client.GetByteArrayAsync(artifact.GetProperty("url").GetString());
        Assert.Equal(onnxBytes, downloaded.LongLength);
        Assert.Equal(OnnxExporter.Export(qsc, OnnxWeightFormat.LowBit).Model, downloaded);
        using var session = OnnxModelSession.FromBytes(downloaded);
        Assert.Equal("[batch, 3, 32, 32]", session.DescribeInput());
    }

    [Fact]
    public async Task Bad_requests_get_problems_that_name_what_is_wrong()
    {
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/runs/9999/export/onnx", null)).StatusCode);
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");

        var badWeights = await client.PostAsync($"/api/runs/{id}/export/onnx?weights=int3", null);
        Assert.Equal(HttpStatusCode.BadRequest, badWeights.StatusCode);
        Assert.Contains("'int3' is not a weight format; allowed: float, lowbit", await badWeights.Content.ReadAsStringAsync());

        // The simulated runner's placeholder is not a checkpoint.
        var corrupt = await client.PostAsync($"/api/runs/{id}/export/onnx", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, corrupt.StatusCode);
        Assert.Contains("is not a valid compressed checkpoint: bad magic", await corrupt.Content.ReadAsStringAsync());

        File.Delete(Path.Combine(RunDirectory(id), "model.qsc"));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/runs/{id}/export/onnx", null)).StatusCode);
    }
}
