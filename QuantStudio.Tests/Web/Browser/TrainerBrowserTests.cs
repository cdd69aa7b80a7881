using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Tests.Training;
using Xunit.Abstractions;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The offline preset trained for real (the app's own ExperimentRunner, in this process) and followed in the browser
/// from the form to the download, through a server restart mid-run and a resume from the page; the downloaded model.qsc
/// then loads with `quantstudio eval` and scores the student accuracy the run reported. Runs with the training tests, alone: libtorch's generator and thread count are
/// process-wide, and the run should have both cores. Screenshots go to screenshots/trainer/ in the test output.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainerBrowserTests(ITestOutputHelper output)
{
    [Fact(Timeout = 1_500_000)]
    public async Task The_offline_preset_trains_for_real_in_the_browser_resumes_after_a_restart_and_its_download_evaluates_to_the_runs_accuracy()
    {
        var clock = Stopwatch.StartNew();
        await using var host = await StudioHost.StartAsync(StudioRunner.Trainer);
        var downloads = Path.Combine(host.Server.DataDirectory, "browser-downloads");
        PresetDownload download;
        using (var browser = new HeadlessChromium(downloads))
            download = await Task.Run(() => StudioBrowserTests.PresetRunToDownload(host, browser, TimeSpan.FromMinutes(10),
                Path.Combine(StudioBrowserTests.ScreenshotDirectory, "trainer"), filesSavedWhileTraining: true, restartMidRun: true));
        var checkpoint = download.Checkpoint;

        var run = await GetRunAsync(host.Server, download.RunId);
        Assert.Equal("finished", run.GetProperty("status").GetString());
        var summary = run.GetProperty("summary");
        var studentAccuracy = summary.GetProperty("student_accuracy").GetDouble();
        Assert.Equal(4, summary.GetProperty("bits").GetDouble());
        Assert.Equal(new FileInfo(checkpoint).Length, summary.GetProperty("qsc_bytes").GetDouble());

        // `quantstudio eval --model model.qsc`: the dataset, seed and split come from the checkpoint.
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = new EvalCommand().Run(["--model", checkpoint], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        using var printed = JsonDocument.Parse(stdout.ToString());
        var result = printed.RootElement;
        Assert.Equal("shapes", result.GetProperty("dataset").GetString());
        Assert.Equal("test", result.GetProperty("split").GetString());
        Assert.Equal(studentAccuracy, result.GetProperty("accuracy").GetDouble());
        // The shapes set has 10 classes: a trained student is far above chance.
        Assert.True(studentAccuracy > 0.3, $"student accuracy {studentAccuracy.ToString(CultureInfo.InvariantCulture)}");

        output.WriteLine($"real preset in the browser: {clock.Elapsed.TotalSeconds:F0} s, student accuracy {studentAccuracy:P1}, " +
                          $"run wall time {summary.GetProperty("wall_seconds").GetDouble():F0} s");
    }

    /// <summary>The run as GET /api/runs/{id} gives it.</summary>
    private static async Task<JsonElement> GetRunAsync(StudioServer server, long id)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        var detail = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
        return detail.GetProperty("run").Clone();
    }
}
