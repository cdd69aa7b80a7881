using Bunit;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Components.Charts;
using QuantStudio.Web.Components.Runs;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A run killed twice and resumed twice, as the trainer reports it: each attempt goes back to its checkpoint's step and
/// reports the steps after it again. The run page's charts must show what <see cref="RunEventHistory.Current"/> keeps:
/// each step and epoch once, with the figures of the attempt that superseded the others, whether the page replays the
/// whole history or watched the attempts live.
/// </summary>
public sealed class ResumedRunChartTests : StudioComponentContext
{
    /// <summary>
    /// Attempt 1 trains epoch 1 (steps 1–4, checkpoint) and is killed at step 6. Attempt 2 resumes after step 4 in the same
    /// phase, finishes epoch 2 (checkpoint after step 8), starts the second phase and is killed at step 10. Attempt 3
    /// resumes after step 8 at the start of the second phase and finishes. A step's loss is attempt × 100 + step.
    /// </summary>
    private static List<List<RunEvent>> Attempts()
    {
        long seq = 0;
        T N<T>(T e) where T : RunEvent => e with { Seq = ++seq };
        RunStarted Start() => N(new RunStarted("qkd", "shapes", "t", "s", 4, 10, 5, "fp32", 2, "{}"));
        PhaseStarted Phase(string name, int index) => N(new PhaseStarted(name, index, 2, 2, 4, "student"));
        StepMetrics Step(int attempt, int step) =>
            N(new StepMetrics(index(step), 0, step, attempt * 100 + step, new Dictionary<string, double> { ["ce"] = 1 }, 0.01 * attempt, 100));
        EpochMetrics Epoch(int attempt, int epoch) => N(new EpochMetrics(index(epoch * 4), epoch, 1, 0.5, attempt * 10 + epoch, 0.1 * attempt, null, 0.01, 1));
        static string index(int step) => step <= 8 ? "self" : "co";

        var a1 = new List<RunEvent> { Start(), Phase("self", 0) };
        a1.AddRange(Enumerable.Range(1, 4).Select(s => Step(1, s)));
        a1.Add(Epoch(1, 1));
        a1.AddRange(Enumerable.Range(5, 2).Select(s => Step(1, s)));
        a1.Add(N(new RunCancelled("killed")));

        var a2 = new List<RunEvent> { Start(), N(new RunResumed(2, "student", 0, 1, 4)), Phase("self", 0) };
        a2.AddRange(Enumerable.Range(5, 4).Select(s => Step(2, s)));
        a2.Add(Epoch(2, 2));
        a2.Add(Phase("co", 1));
        a2.AddRange(Enumerable.Range(9, 2).Select(s => Step(2, s)));
        a2.Add(N(new RunCancelled("killed")));

        var a3 = new List<RunEvent> { Start(), N(new RunResumed(3, "student", 1, 0, 8)), Phase("co", 1) };
        a3.AddRange(Enumerable.Range(9, 4).Select(s => Step(3, s)));
        a3.Add(Epoch(3, 3));
        a3.Add(N(new RunFinished(new Dictionary<string, double>())));
        return [a1, a2, a3];
    }

    private IRenderedComponent<LineChart> RenderLossChart(RunView view) =>
        Render<LineChart>(p => p.Add(x => x.Id, "chart-loss").Add(x => x.Series, view.LossSeries).Add(x => x.Markers, view.StepPhases));

    /// <summary>The chart holds exactly the current history's step losses and epoch val losses, in order, each step once.</summary>
    private async Task AssertShowsCurrentHistory(IRenderedComponent<LineChart> chart, IEnumerable<RunEvent> all)
    {
        var current = RunEventHistory.Current(all);
        var steps = current.OfType<StepMetrics>().ToList();
        var epochs = current.OfType<EpochMetrics>().ToList();
        // The oracle itself, spelled out: steps 1–12 once each, from attempts 1, 2 and 3 in turn.
        Assert.Equal(Enumerable.Range(1, 12).Select(s => (long)s), steps.Select(m => m.Step));
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], steps.Select(m => (int)(m.Loss / 100)));

        var (loss, valLoss, markers) = await Renderer.Dispatcher.InvokeAsync(() => (chart.Instance.Drawn(0), chart.Instance.Drawn(1), chart.Instance.DrawnMarkers));
        Assert.Equal(steps.Select(m => (double?)m.Loss), loss.Select(p => p.Y));
        Assert.Equal(steps.Select(m => (double)m.Step), loss.Select(p => p.X)); // one stage: the step is the x
        Assert.Equal(epochs.Select(m => (double?)m.ValLoss), valLoss.Select(p => p.Y));
        Assert.Equal([4.0, 8.0, 12.0], valLoss.Select(p => p.X));
        // The phases start where an uninterrupted run started them: before step 1 and after step 8, once each.
        Assert.Equal([0.0, 8.0], markers);
    }

    [Fact]
    public async Task A_replayed_history_with_resumes_draws_each_step_once_with_the_newest_figures()
    {
        var attempts = Attempts();
        var view = new RunView();
        foreach (var e in attempts.SelectMany(a => a))
            view.Apply(e);
        var chart = RenderLossChart(view);
        Assert.Single(PlotlyCalls("newPlot"));
        await AssertShowsCurrentHistory(chart, attempts.SelectMany(a => a));
        Assert.Equal([1.0, 2.0, 3.0], view.ValAccuracy.X);
        Assert.Equal([0.1, 0.2, 0.3], view.ValAccuracy.Y.Select(y => Math.Round(y, 6)));
    }

    [Fact]
    public async Task A_page_watching_the_resumes_live_redraws_the_superseded_steps()
    {
        var attempts = Attempts();
        var view = new RunView();
        foreach (var e in attempts[0])
            view.Apply(e);
        var chart = RenderLossChart(view);
        Assert.Equal(6, chart.Instance.DrawnPoints[0]);

        // The later attempts arrive a few events a frame, as the page's frames bring them.
        foreach (var frame in attempts.Skip(1).SelectMany(a => a).Chunk(3))
        {
            await Renderer.Dispatcher.InvokeAsync(() =>
            {
                foreach (var e in frame)
                    view.Apply(e);
            });
            chart.Render(p => p.Add(x => x.Series, view.LossSeries).Add(x => x.Markers, view.StepPhases));
        }
        Eventually(() => chart.Instance.DrawnPoints[0] == 12 && chart.Instance.DrawnPoints[1] == 3, "12 steps and 3 epochs drawn", TimeSpan.FromSeconds(10));
        await AssertShowsCurrentHistory(chart, attempts.SelectMany(a => a));
        // Each resume redrew the chart: the steps it superseded cannot be taken back by extending.
        Assert.True(PlotlyCalls("react").Count >= 2, AllCalls);
        Assert.Equal(2, view.Charts.Refolds);
    }
}
