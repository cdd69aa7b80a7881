using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Api;
using QuantStudio.Web.Estimation;
using QuantStudio.Web.Forms;
using QuantStudio.Web.Options;
using QuantStudio.Web.Presets;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Uploads;

namespace QuantStudio.Web.Components.Pages;

/// <summary>
/// The experiment form, live: sections follow the method, every change is checked with the rules POST /api/runs applies
/// (<see cref="SpecChecks"/>) and re-estimates the size; presets fill the form in place or start at once.
/// </summary>
public partial class NewExperiment
{
    private NewExperimentForm form = new();
    private IReadOnlyDictionary<string, string[]> errors = new Dictionary<string, string[]>();
    private List<string> presetErrors = [];
    private IReadOnlyList<RunRecord> teacherRuns = [];
    private string? uploadStatus;
    private bool busy;
    private QuantStudio.Web.Components.Sweeps.SweepAxesSection? axes;

    [Inject] private SpecChecks Checks { get; set; } = default!;
    [Inject] private RunService Service { get; set; } = default!;
    [Inject] private IRunStore Store { get; set; } = default!;
    [Inject] private IModelParameterCounts Counts { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private IOptions<QuantStudioOptions> Options { get; set; } = default!;
    [Inject] private TeacherUploadStore Uploads { get; set; } = default!;

    /// <summary>A preset to load (?preset=key), as the links elsewhere give it.</summary>
    [SupplyParameterFromQuery(Name = "preset")] private string? PresetQuery { get; set; }

    /// <summary>The form, for tests.</summary>
    internal NewExperimentForm Form => form;

    protected override async Task OnInitializedAsync()
    {
        if (ExperimentPresets.Find(PresetQuery) is { } p)
            form = NewExperimentForm.FromSpec(p.Runs[^1]);
        teacherRuns = (await Store.ListRunsAsync())
            .Where(r => r.Status == RunStatus.Finished &&
                        File.Exists(Path.Combine(Options.Value.RunDirectory(r.Id), QuantStudio.Core.Training.ExperimentRunner.TeacherFileName)))
            .ToList();
    }

    /// <summary>The form's errors by spec field, as the API would answer them.</summary>
    internal async Task ValidateAsync()
    {
        var found = (await Checks.CheckAsync(form.ToSpec())).ToList();
        if (form.TeacherSource == NewExperimentForm.TeacherFromRun && Methods.UsesTeacher(form.Method) && form.TeacherRunId is null)
            found.Add(new SpecError("teacher.checkpoint", "choose the finished run whose teacher to use"));
        errors = found.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).Distinct().ToArray());
    }

    private async Task LoadPresetAsync(ExperimentPreset preset)
    {
        form = NewExperimentForm.FromSpec(preset.Runs[^1]);
        presetErrors = [];
        await ValidateAsync();
    }

    private async Task SubmitAsync()
    {
        await ValidateAsync();
        if (errors.Count > 0)
            return;
        busy = true;
        try
        {
            // With axes the form is the base of a sweep: every combination is checked, then all are queued.
            if (axes?.HasAxes == true)
            {
                if (await axes.StartAsync() is { } sweepId)
                    Nav.NavigateTo($"/sweeps/{sweepId}");
                return;
            }
            var run = await Service.CreateAsync(form.ToSpec());
            Nav.NavigateTo($"/runs/{run.Id}");
        }
        finally
        {
            busy = false;
        }
    }

    private async Task RunPresetAsync(ExperimentPreset preset)
    {
        var problems = new List<string>();
        foreach (var s in preset.Runs)
            problems.AddRange((await Checks.CheckAsync(s)).Select(e => e.ToString()));
        presetErrors = problems.Distinct().ToList();
        if (presetErrors.Count > 0)
            return;
        busy = true;
        try
        {
            var ids = new List<long>();
            foreach (var spec in preset.Runs)
                ids.Add((await Service.CreateAsync(spec)).Id);
            Nav.NavigateTo(ids.Count == 1 ? $"/runs/{ids[0]}" : "/compare?" + string.Join("&", ids.Select(i => $"ids={i}")));
        }
        finally
        {
            busy = false;
        }
    }

    /// <summary>A teacher file chosen in the form: refused past the size limit before a byte is read, checked like an API upload.</summary>
    private async Task<UploadDto> StoreUploadAsync(IBrowserFile file)
    {
        if (file.Size > Uploads.Limit)
            throw Uploads.TooLarge();
        await using var stream = file.OpenReadStream(Uploads.Limit);
        return await Uploads.StoreAsync(stream, file.Name);
    }
}
