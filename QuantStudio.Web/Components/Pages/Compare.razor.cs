using System.Globalization;
using Microsoft.AspNetCore.Components;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Components.Charts;
using QuantStudio.Web.Forms;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Components.Pages;

/// <summary>
/// Runs side by side: the students' validation curves overlaid (a teacher trained first is left out, so the epochs line up
/// across methods) and score against packed size with the Pareto frontier.
/// </summary>
public partial class Compare
{
    public const int MaxRuns = 20;

    private readonly List<RunRecord> runs = [];
    private readonly List<ChartSeries> lossCurves = [];
    private readonly List<ChartSeries> qualityCurves = [];
    private List<SizeScorePoint> points = [];
    private bool perplexity;
    private string? problem;

    [Inject] private IRunStore Store { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;

    /// <summary>Run ids, repeated (?ids=1&amp;ids=2) or comma-separated (?ids=1,2); read as text so a bad one gets a page, not an error.</summary>
    [SupplyParameterFromQuery(Name = "ids")] public string[]? Ids { get; set; }
    [CascadingParameter] public HttpContext? HttpContext { get; set; }

    protected override async Task OnInitializedAsync()
    {
        var parts = (Ids ?? []).SelectMany(i => i.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var bad = parts.Where(p => !long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)).ToList();
        if (bad.Count > 0)
        {
            Refuse(StatusCodes.Status400BadRequest, $"ids: '{string.Join("', '", bad.Take(5))}' {(bad.Count == 1 ? "is not a run id" : "are not run ids")}; run ids are whole numbers, such as ?ids=1,2");
            return;
        }
        var missing = new List<long>();
        foreach (var id in parts.Select(p => long.Parse(p, CultureInfo.InvariantCulture)).Distinct().Take(MaxRuns))
        {
            if (await Store.GetRunAsync(id) is { } r)
                runs.Add(r);
            else
                missing.Add(id);
        }
        if (missing.Count > 0)
        {
            Nav.NotFound();
            return;
        }
        foreach (var r in runs)
            await AddCurvesAsync(r);
        perplexity = runs.Any(r => r.Accuracy is null && r.Perplexity is not null);
        points = runs.Where(r => r.PackedBytes is not null && (perplexity ? r.Perplexity : r.Accuracy) is not null)
            .Select(r => new SizeScorePoint(r.Id, $"#{r.Id} {(r.Bits is { } b ? $"{b}b" : "fp32")}", r.PackedBytes!.Value,
                (perplexity ? r.Perplexity : r.Accuracy)!.Value, MethodSections.Label(r.Method), r.Bits, r.TryReadSpec()?.Quantization.BucketSize))
            .ToList();
    }

    private async Task AddCurvesAsync(RunRecord r)
    {
        var label = $"#{r.Id} {r.Name}";
        var loss = new ChartSeries(label) { ShowMarkers = true };
        var quality = new ChartSeries(label) { ShowMarkers = true };
        var epoch = 0;
        foreach (var e in await Store.ReadEventsAsync(r.Id, 0, 10_000, [RunEventJson.EpochMetrics]))
        {
            if (e.ToRunEvent() is not EpochMetrics m || m.Phase == "teacher")
                continue;
            epoch++;
            loss.Add(epoch, m.ValLoss);
            if ((m.ValPerplexity ?? m.ValAccuracy) is { } q)
                quality.Add(epoch, q);
        }
        lossCurves.Add(loss);
        qualityCurves.Add(quality);
    }

    private void Refuse(int status, string message)
    {
        problem = message;
        if (HttpContext is { Response.HasStarted: false } http)
        {
            http.Response.StatusCode = status;
            // This page explains the problem itself; the generic status page must not replace it.
            if (http.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
        }
    }
}
