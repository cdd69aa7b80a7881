using System.Text.Json;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Tests.Web;
using QuantStudio.Web.Components.Pages;
using QuantStudio.Web.Components.Sweeps;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Tests.Sweeps;

/// <summary>The form's axes section and the sweep page, on the app's own services with a runner whose figures are known.</summary>
public sealed class SweepComponentTests : StudioComponentContext
{
    // 8 bits is larger than 4 and less accurate: dominated. Each run waits for the gate before it finishes.
    private readonly SemaphoreSlim gate = new(0);
    private readonly QuantStudioFactory factory;

    public SweepComponentTests()
    {
        factory = new QuantStudioFactory { OtherRunner = new FiguresRunner(new Dictionary<int, double> { [2] = 0.5, [4] = 0.8, [8] = 0.79 }) { Gate = gate } };
        _ = factory.Server; // starts the app, its store and its run queue
        Services.AddFallbackServiceProvider(factory.Services);
    }

    protected override void Dispose(bool disposing)
    {
        gate.Release(1000);
        base.Dispose(disposing);
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private static readonly ExperimentSpec Base = new()
    {
        Method = Methods.PostTraining,
        Student = new StudentSpec { Arch = "cifar-student-1" },
        Optimizer = new OptimizerSpec { Epochs = 1 },
    };

    [Fact]
    public void The_axes_section_counts_the_runs_as_values_are_typed_and_shows_each_problem_beside_its_axis()
    {
        var cut = Render<SweepAxesSection>(p => p.Add(x => x.Spec, Base));
        Assert.Empty(cut.FindAll("#sweep-run-count"));

        // A new axis starts on bits, with the form's value: one run.
        cut.Find("#axis-add").Click();
        Assert.Equal("4", cut.Find("#axis-values-0").GetAttribute("value"));
        Assert.Equal("This sweep makes 1 run.", cut.Find("#sweep-run-count").TextContent);

        cut.Find("#axis-values-0").Input("2, 4, 8");
        Assert.Equal("This sweep makes 3 runs.", cut.Find("#sweep-run-count").TextContent);
        cut.Find("#axis-add").Click();
        cut.Find("#axis-path-1").Change("method");
        cut.Find("#axis-values-1").Input("post_training, qat");
        cut.WaitForAssertion(() => Assert.Equal("This sweep makes 6 runs.", cut.Find("#sweep-run-count").TextContent));
        Assert.Equal("6", cut.Find("#section-axes").GetAttribute("data-run-count"));
        Assert.Empty(cut.FindAll(".field-error"));
        Assert.False(cut.Instance.HasErrors);

        // A value of the wrong type: the message the CLI and the API give, beside its axis.
        cut.Find("#axis-values-0").Input("2, x, 8");
        Assert.Equal(SweepAxis.FromText("quantization.bits", "2, x, 8").Error, cut.Find("#axis-error-0").TextContent);
        Assert.Equal("quantization.bits takes a whole number; 'x' is not one", cut.Find("#axis-error-0").TextContent);
        Assert.True(cut.Instance.HasErrors);

        // A value that fails only in combination: the runs it fails are named.
        cut.Find("#axis-values-0").Input("2, 9");
        cut.WaitForAssertion(() => Assert.Equal(
            "runs \"bits=9 method=post_training\", \"bits=9 method=qat\": quantization.bits: 9 is out of range; allowed: 1 to 8",
            cut.Find("#axis-error-0").TextContent));
        Assert.Equal("This sweep makes 4 runs.", cut.Find("#sweep-run-count").TextContent);

        // Fixed, and the second axis removed.
        cut.Find("#axis-values-0").Input("2, 8");
        cut.Find("#axis-remove-1").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".field-error")));
        Assert.Equal("This sweep makes 2 runs.", cut.Find("#sweep-run-count").TextContent);
    }

    [Fact]
    public void The_axes_section_checks_its_runs_again_when_the_form_changes()
    {
        var cut = Render<SweepAxesSection>(p => p.Add(x => x.Spec, Base));
        cut.Find("#axis-add").Click();
        cut.Find("#axis-values-0").Input("1, 2");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".field-error")));

        // The absmax scheme needs 2 bits: now bits=1 fails.
        cut.Render(p => p.Add(x => x.Spec, Base with { Quantization = new QuantizationSpec { Scheme = "absmax" } }));
        cut.WaitForAssertion(() => Assert.Equal(
            "run \"bits=1\": quantization.bits: the absmax scheme needs at least 2 bits (one is the sign)", cut.Find("#axis-error-0").TextContent));
    }

    [Fact]
    public async Task Starting_the_form_with_axes_queues_a_sweep_and_opens_its_page()
    {
        var cut = Render<NewExperiment>();
        Assert.Equal("Start run", cut.Find("#submit-experiment").TextContent);
        cut.Find("#axis-add").Click();
        cut.Find("#axis-values-0").Input("2, 8");
        Assert.Equal("Start sweep", cut.Find("#submit-experiment").TextContent);

        cut.Find("#submit-experiment").Click();

        cut.WaitForAssertion(() => Assert.Matches("/sweeps/[0-9]+$", Services.GetRequiredService<NavigationManager>().Uri));
        var sweep = Assert.Single(await factory.Store.ListSweepsAsync());
        Assert.EndsWith($"/sweeps/{sweep.Id}", Services.GetRequiredService<NavigationManager>().Uri);
        var runs = await factory.Store.ListSweepRunsAsync(sweep.Id);
        Assert.Equal([2, 8], runs.Select(r => r.Bits));
        // The rest of each run's spec is the form's.
        Assert.All(runs, r => Assert.Equal(cut.Instance.Form.ToSpec().Student.Arch, r.TryReadSpec()!.Student.Arch));
    }

    [Fact]
    public async Task The_sweep_page_follows_its_runs_and_marks_the_frontier_with_the_dominated_run_grey()
    {
        var service = factory.Services.GetRequiredService<SweepService>();
        var (created, errors) = await service.CreateAsync(new SweepRequest("bits", SpecJson.Write(Base),
            [new SweepAxis("quantization.bits", JsonSerializer.Deserialize<JsonElement[]>("[2, 4, 8]")!)]));
        Assert.Empty(errors);
        var ids = created!.Runs.Select(r => r.Id).ToList();

        var cut = Render<SweepDetail>(p => p.Add(x => x.Id, created.Sweep.Id));
        Assert.Equal("0", cut.Find("#sweep-detail").GetAttribute("data-ended"));
        Assert.NotNull(cut.Find("#sweep-chart-empty"));
        Assert.Equal(["2", "4", "8"], cut.FindAll("#sweep-runs tbody tr").Select(r => r.QuerySelector("[data-field=value]")!.TextContent));

        // The runs finish one by one; the page follows without being asked.
        gate.Release(3);
        cut.WaitForAssertion(() => Assert.Equal("3", cut.Find("#sweep-detail").GetAttribute("data-ended")), TimeSpan.FromSeconds(10));

        Assert.Equal($"{ids[0]},{ids[1]}", cut.Find("#sweep-detail").GetAttribute("data-frontier"));
        Assert.Equal("true", cut.Find($"#sweep-run-{ids[0]}").GetAttribute("data-frontier"));
        Assert.Equal("true", cut.Find($"#sweep-run-{ids[1]}").GetAttribute("data-frontier"));
        Assert.Contains("dominated", cut.Find($"#sweep-run-{ids[2]}").ClassList);
        Assert.DoesNotContain("dominated", cut.Find($"#sweep-run-{ids[0]}").ClassList);
        Assert.Equal("79.0%", cut.Find($"#sweep-run-{ids[2]} [data-field=score]").TextContent);
        // The compare page's chart draws the same frontier.
        cut.WaitForAssertion(() => Assert.Equal($"{ids[0]},{ids[1]}", cut.Find("[data-chart^=chart-sweep-pareto]").GetAttribute("data-frontier")));
        Eventually(() => PlotlyCalls("newPlot").Count > 0, "the scatter is drawn");
        Assert.Equal("ended", cut.Find("#sweep-status").TextContent);
    }

    [Fact]
    public async Task A_run_of_a_sweep_links_to_its_sweep_page()
    {
        var service = factory.Services.GetRequiredService<SweepService>();
        var (created, errors) = await service.CreateAsync(new SweepRequest("bits", SpecJson.Write(Base),
            [new SweepAxis("quantization.bits", JsonSerializer.Deserialize<JsonElement[]>("[2, 4]")!)]));
        Assert.Empty(errors);
        Assert.NotNull(created);

        var cut = Render<RunDetail>(p => p.Add(x => x.Id, created.Runs[1].Id));
        cut.WaitForAssertion(() => Assert.Equal($"/sweeps/{created.Sweep.Id}", cut.Find("#run-sweep").GetAttribute("href")), TimeSpan.FromSeconds(10));
        Assert.Contains($"#{created.Sweep.Id}", cut.Find("#run-sweep").TextContent);
    }

    [Fact]
    public void An_unknown_sweep_says_so()
    {
        var cut = Render<SweepDetail>(p => p.Add(x => x.Id, 4242));
        Assert.Contains("There is no sweep 4242", cut.Find("#sweep-missing").TextContent);
    }
}
