using Bunit;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Components.Charts;
using QuantStudio.Web.Components.Pages;
using QuantStudio.Web.Estimation;
using QuantStudio.Web.Forms;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web;

/// <summary>
/// The interactive pages driven as a user drives them, on the app's own services (a QuantStudioFactory's, with its
/// scripted runner): the form's method switch, its validation and estimate, and a run page following a live run.
/// </summary>
public sealed class PageComponentTests : StudioComponentContext
{
    // Every step reaches the page (no thinning by time), so each release of the runner's gate adds points.
    // Uploads are limited to 4 kB here, to try one past the limit.
    private readonly QuantStudioFactory factory = new(settings: new Dictionary<string, string?>
    {
        ["QuantStudio:LiveStepMetricsPerSecond"] = "0",
        ["QuantStudio:MaxUploadBytes"] = "4096",
    });

    public PageComponentTests()
    {
        factory.Runner.Gate = new SemaphoreSlim(0);
        factory.Runner.Steps = 40;
        _ = factory.Server; // starts the app, its store and its run queue
        Services.AddFallbackServiceProvider(factory.Services);
    }

    protected override void Dispose(bool disposing)
    {
        factory.Runner.Gate!.Release(1000);
        base.Dispose(disposing);
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Fact]
    public void Switching_the_method_shows_and_hides_its_sections_in_place()
    {
        var cut = Render<NewExperiment>();
        Assert.False(cut.Find("#section-teacher").HasAttribute("hidden"));
        Assert.True(cut.Find("#section-qkd").HasAttribute("hidden"));

        cut.Find("#field-method").Change(Methods.Qkd);
        Assert.False(cut.Find("#section-qkd").HasAttribute("hidden"));
        Assert.False(cut.Find("#section-activations").HasAttribute("hidden"));

        cut.Find("#field-method").Change(Methods.FullPrecision);
        foreach (var section in new[] { "teacher", "quantization", "distillation", "qkd" })
            Assert.True(cut.Find($"#section-{section}").HasAttribute("hidden"), section);
        Assert.Equal("full_precision", cut.Find("#new-experiment-form").GetAttribute("data-method"));
        // Full precision keeps fp32: the estimate says so.
        Assert.Equal("1.0×", cut.Find("#estimate-ratio").TextContent);
    }

    [Fact]
    public async Task A_bad_field_shows_the_message_the_api_gives_and_clears_when_fixed()
    {
        var cut = Render<NewExperiment>();
        Assert.Empty(cut.FindAll(".field-error"));

        cut.Find("#field-bits").Change("12");
        var expected = (await factory.Services.GetRequiredService<SpecChecks>().CheckAsync(cut.Instance.Form.ToSpec()))
            .Single(e => e.Field == "quantization.bits").Message;
        Assert.Equal(expected, cut.Find("#error-quantization-bits").TextContent);
        Assert.NotNull(cut.Find("#form-errors"));
        // Starting is refused while the form has errors: no run is created.
        cut.Find("#submit-experiment").Click();
        Assert.Empty(await factory.Store.ListRunsAsync());

        cut.Find("#field-bits").Change("3");
        Assert.Empty(cut.FindAll("#error-quantization-bits"));
        Assert.Empty(cut.FindAll("#form-errors"));

        // A model that cannot read the dataset: the same cross-field rule as the API.
        cut.Find("#field-dataset").Change("text-synthetic");
        Assert.Contains("reads images", cut.Find("#error-student-arch").TextContent);
    }

    [Fact]
    public async Task Number_fields_are_checked_as_they_are_typed_and_keep_what_was_typed()
    {
        var checks = factory.Services.GetRequiredService<SpecChecks>();
        var cut = Render<NewExperiment>();

        // A key typed (no change event, the field keeps the focus): the value is read and checked at once.
        cut.Find("#field-bits").Input("12");
        Assert.Equal(12, cut.Instance.Form.Bits);
        var expected = (await checks.CheckAsync(cut.Instance.Form.ToSpec())).Single(e => e.Field == "quantization.bits").Message;
        Assert.Equal(expected, cut.Find("#error-quantization-bits").TextContent);
        cut.Find("#field-bits").Input("3");
        Assert.Empty(cut.FindAll("#error-quantization-bits"));

        cut.Find("#field-lr").Input("-0.5");
        Assert.Equal(-0.5, cut.Instance.Form.Lr);
        Assert.Single(cut.FindAll("#error-optimizer-lr"));

        // Half a number (a browser reports "0." as empty) leaves the value and the field as they were typed, not rewritten.
        cut.Find("#field-lr").Input("");
        Assert.Equal(-0.5, cut.Instance.Form.Lr);
        Assert.Equal("", cut.Find("#field-lr").GetAttribute("value"));
        cut.Find("#field-lr").Input("0.01");
        Assert.Equal(0.01, cut.Instance.Form.Lr);
        Assert.Empty(cut.FindAll("#error-optimizer-lr"));
        Assert.Equal("0.01", cut.Find("#field-lr").GetAttribute("value"));

        // Leaving a required field emptied shows the value the form holds; an optional one emptied is none.
        cut.Find("#field-epochs").Input("");
        cut.Find("#field-epochs").Change("");
        Assert.Equal(cut.Instance.Form.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("#field-epochs").GetAttribute("value"));
        cut.Find("#field-bucket").Input("");
        Assert.Null(cut.Instance.Form.BucketSize);
        cut.Find("#field-subset").Input("0");
        Assert.Single(cut.FindAll("#error-dataset-subset"));
    }

    [Fact]
    public void The_expected_size_follows_the_bits_and_the_student()
    {
        var counts = factory.Services.GetRequiredService<IModelParameterCounts>();
        var cut = Render<NewExperiment>();
        string Packed() => cut.Find("#estimate-packed").TextContent;
        Assert.Equal(Bytes.Format(CompressionEstimate.For(cut.Instance.Form.ToSpec(), counts)!.PackedBytes), Packed());

        var at4 = Packed();
        cut.Find("#field-bits").Change("2");
        var at2 = CompressionEstimate.For(cut.Instance.Form.ToSpec(), counts)!;
        Assert.Equal(2, at2.Bits);
        Assert.Equal(Bytes.Format(at2.PackedBytes), Packed());
        Assert.NotEqual(at4, Packed());

        var parameters = cut.Find("#estimate-params").TextContent;
        cut.Find("#field-student-width").Change("2");
        Assert.NotEqual(parameters, cut.Find("#estimate-params").TextContent);
    }

    [Fact]
    public void A_preset_fills_the_form_in_place()
    {
        var cut = Render<NewExperiment>();
        cut.Find("#preset-load-char-lstm").Click();
        Assert.Equal("char-lstm", cut.Instance.Form.Student);
        Assert.Equal("text-synthetic", cut.Instance.Form.Dataset);
        Assert.Equal("char-lstm", cut.Find("#field-student").GetAttribute("value"));
        Assert.Empty(cut.FindAll(".field-error"));
    }

    [Fact]
    public async Task A_teacher_file_is_checked_and_stored_in_place_its_name_fills_the_form_and_a_mismatch_is_named()
    {
        var cut = Render<NewExperiment>();
        cut.Find("#teacher-source-upload").Change(true);
        Assert.False(cut.Find("[data-teacher-source=upload]").HasAttribute("hidden"));

        var upload = cut.FindComponent<InputFile>();
        upload.UploadFiles(InputFileContent.CreateFromBinary(Encoding.UTF8.GetBytes("not safetensors at all"), "teacher.safetensors"));
        Eventually(() => cut.Find("#teacher-upload-status").TextContent.StartsWith("teacher.safetensors: ", StringComparison.Ordinal), "the refusal");
        Assert.Null(cut.Instance.Form.TeacherCheckpoint);

        upload.UploadFiles(InputFileContent.CreateFromBinary(new byte[5000], "big.safetensors"));
        Eventually(() => cut.Find("#teacher-upload-status").TextContent.Contains("limited to 4096 bytes", StringComparison.Ordinal), "the size limit");
        Assert.Null(cut.Instance.Form.TeacherCheckpoint);

        upload.UploadFiles(InputFileContent.CreateFromBinary(UploadTests.Safetensors(UploadTests.GoodHeader, 36), "teacher.safetensors"));
        Eventually(() => cut.Instance.Form.TeacherCheckpoint is not null, "the stored upload's name in the form");
        var name = cut.Instance.Form.TeacherCheckpoint!;
        Assert.Matches("^teacher-[0-9a-f]{16}\\.safetensors$", name);
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "uploads", name)));
        Assert.Contains("2 tensors", cut.Find("#teacher-upload-status").TextContent);
        Assert.Equal(name, cut.Find("#field-teacher-checkpoint").GetAttribute("value"));

        // A well-formed file that is not the form's teacher (cifar-teacher) is named on the field, with the mismatch, and
        // starting is refused: no run is created and the app goes on answering.
        Eventually(() => cut.FindAll("#error-teacher-checkpoint").Count == 1, "the mismatch on the teacher field");
        var message = cut.Find("#error-teacher-checkpoint").TextContent;
        Assert.Contains("do not fit cifar-teacher", message);
        Assert.Contains("are not the model's: w, b", message);
        cut.Find("#submit-experiment").Click();
        Assert.Empty(await factory.Store.ListRunsAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await factory.CreateClient().GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task The_run_page_extends_its_charts_as_events_arrive_and_acts_in_place()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "running");

        var cut = Render<RunDetail>(p => p.Add(x => x.Id, id));
        var loss = cut.FindComponents<LineChart>().Single(c => c.Instance.Id == "chart-loss");
        Eventually(() => cut.Instance.View.Log.Count >= 2, "the replayed start of the run");
        Assert.Equal("running", cut.Find("#run-status").TextContent);

        // Steps arrive one at a time: the loss chart grows by extending its trace, never redrawing it.
        var drawn = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            factory.Runner.Gate!.Release(3);
            var before = drawn.Count == 0 ? 0 : drawn[^1];
            Eventually(() => loss.Instance.DrawnPoints[0] > before, $"more loss points than {before}", TimeSpan.FromSeconds(10));
            drawn.Add(await Renderer.Dispatcher.InvokeAsync(() => loss.Instance.DrawnPoints[0]));
        }
        Assert.Equal(drawn.Order(), drawn);
        Assert.True(PlotlyCalls("extendTraces").Count >= 3, AllCalls);
        // At most one redraw, for the phase marker of the replay; every step went out as an extend.
        Assert.InRange(await Renderer.Dispatcher.InvokeAsync(() => loss.Instance.Redraws), 0, 1);

        // Cancel in place: the status and the buttons follow the run's end without leaving the page.
        cut.Find("#action-cancel").Click();
        Eventually(() => cut.Find("#run-status").TextContent == "cancelled", "the run cancelled", TimeSpan.FromSeconds(10));
        Assert.NotNull(cut.Find("#action-resume"));
        // The run has ended, so the page stops following it (and renders no more frames).
        Eventually(() => cut.Find("#run-detail").GetAttribute("data-following") == "false", "the page done following the ended run", TimeSpan.FromSeconds(10));
        cut.Find("#action-delete").Click();
        // The page may be rendering a frame of its own when the click lands: wait for the question to be drawn.
        Eventually(() => cut.FindAll("#action-delete-confirm").Count == 1, "the delete confirmation", TimeSpan.FromSeconds(10));
        cut.Find("#action-delete-confirm").Click();
        Eventually(() => Services.GetRequiredService<NavigationManager>().Uri.EndsWith("/runs", StringComparison.Ordinal), "back on the runs page",
            TimeSpan.FromSeconds(10));
        Assert.Null(await factory.Store.GetRunAsync(id));
    }

    [Fact]
    public async Task The_runs_page_keeps_its_filters_and_sort_in_the_url_without_a_reload()
    {
        var client = factory.CreateClient();
        var qkd = await TestSpecs.CreateRunAsync(client, TestSpecs.Json(method: Methods.Qkd));
        var qd = await TestSpecs.CreateRunAsync(client);
        var nav = Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>();
        nav.NavigateTo("/runs?dataset=shapes&sort=name&dir=asc");
        var cut = Render<QuantStudio.Web.Components.Pages.Runs>();
        Eventually(() => cut.FindAll("#runs-table tbody tr[data-run-id]").Count == 2, "both runs listed");
        Assert.Equal("shapes", cut.Find("#filter-dataset").GetAttribute("value"));
        Assert.Contains("↑", cut.Find("#sort-name").TextContent);

        cut.Find("#filter-method").Change(Methods.Qkd);
        Assert.Equal([qkd], cut.FindAll("#runs-table tbody tr[data-run-id]").Select(r => long.Parse(r.GetAttribute("data-run-id")!)));
        var query = QueryOf(nav.Uri);
        Assert.Equal(Methods.Qkd, query["method"]);
        Assert.Equal("shapes", query["dataset"]);
        Assert.Equal("name", query["sort"]);
        Assert.Equal("asc", query["dir"]);
        // In place: the history entry is replaced, and nothing asked for a page load.
        Assert.All(nav.History, h => Assert.False(h.Options.ForceLoad));
        Assert.True(nav.History.First().Options.ReplaceHistoryEntry);

        cut.Find("#filter-method").Change("");
        cut.Find("#sort-packed").Click();
        cut.Find("#filter-q").Input("abc");
        query = QueryOf(nav.Uri);
        Assert.False(query.ContainsKey("method"));
        Assert.Equal("packed", query["sort"]);
        Assert.False(query.ContainsKey("dir")); // newest first is the default
        Assert.Equal("abc", query["q"]);
        Assert.Empty(cut.FindAll("#runs-table tbody tr[data-run-id]"));

        // A reload (or the link shared) shows the same list.
        var reloaded = Render<QuantStudio.Web.Components.Pages.Runs>();
        Assert.Equal("abc", reloaded.Find("#filter-q").GetAttribute("value"));
        Assert.Contains("↓", reloaded.Find("#sort-packed").TextContent);
        Assert.Equal("shapes", reloaded.Find("#filter-dataset").GetAttribute("value"));
        Eventually(() => reloaded.FindAll("#runs-empty").Count == 1, "no run named abc");
        Assert.NotEqual(qkd, qd);
    }

    private static Dictionary<string, string> QueryOf(string uri) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(uri).Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    [Fact]
    public async Task The_resume_notice_stays_while_the_run_is_queued_and_goes_once_it_runs()
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "running");
        var cut = Render<RunDetail>(p => p.Add(x => x.Id, id));
        Eventually(() => cut.Instance.View.Log.Count >= 2, "the replayed start of the run");
        cut.Find("#action-cancel").Click();
        Eventually(() => cut.Find("#run-status").TextContent == "cancelled", "the run cancelled", TimeSpan.FromSeconds(10));
        Eventually(() => cut.Find("#run-detail").GetAttribute("data-following") == "false", "the page done following", TimeSpan.FromSeconds(10));

        // Another run holds the only runner, so the resumed run waits in the queue.
        var other = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, other, "running");
        cut.Find("#action-resume").Click();
        Eventually(() => cut.FindAll("#action-message").Count == 1, "the resume notice");
        Assert.StartsWith("Queued to resume", cut.Find("#action-message").TextContent);
        Assert.Equal("queued", cut.Find("#run-status").TextContent);

        // The runner is free: the run starts again, and the notice goes.
        (await client.PostAsync($"/api/runs/{other}/cancel", null)).EnsureSuccessStatusCode();
        Eventually(() => cut.Find("#run-status").TextContent == "running", "the resumed run running", TimeSpan.FromSeconds(10));
        Eventually(() => cut.FindAll("#action-message").Count == 0, "the resume notice gone once the run runs", TimeSpan.FromSeconds(10));
    }
}
