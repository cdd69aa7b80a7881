using System.Net;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Web;

/// <summary>
/// metrics.jsonl of a run the real trainer ran, cancelled and resumed: the trainer appends every event it emits to that
/// file, so the server must not write it too while the trainer runs.
/// </summary>
public sealed class TrainerMetricsFileTests : IDisposable
{
    private readonly QuantStudioFactory factory = new() { OtherRunner = new ExperimentRunner { StepMetricsEvery = 1 } };

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private const string Spec = """
        {
          "name": "trainer resume",
          "dataset": { "name": "shapes", "subset": 256 },
          "teacher": { "arch": "cifar-teacher", "width": 0.25 },
          "student": { "arch": "cifar-student-1" },
          "method": "quantized_distillation",
          "quantization": { "bits": 4, "bucket_size": 256 },
          "optimizer": { "epochs": 1, "batch_size": 32 }
        }
        """;

    [Fact(Timeout = 300_000)]
    public async Task A_trainer_run_cancelled_and_resumed_has_each_stored_event_once_in_its_metrics_file()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client, Spec);
        await TestSpecs.WaitForLastSeqAsync(client, id, 4);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        await TestSpecs.WaitForStatusAsync(client, id, TimeSpan.FromMinutes(1), "cancelled");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        var done = await TestSpecs.WaitForStatusAsync(client, id, TimeSpan.FromMinutes(4), "finished", "failed");
        Assert.True(done.GetProperty("run").GetProperty("status").GetString() == "finished", done.ToString());

        await MetricsFileAssert.HoldsTheStoredEventsAsync(client, factory.DataDirectory, id);
    }
}
