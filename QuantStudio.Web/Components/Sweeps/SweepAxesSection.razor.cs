using Microsoft.AspNetCore.Components;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Web.Components.Sweeps;

/// <summary>
/// The axes of a sweep, edited beside the form that gives its base spec. Every change re-reads the axes and, when they read,
/// expands the sweep with the checks POST /api/sweeps applies (<see cref="SweepService.PlanAsync"/>), so a combination the
/// server would refuse is named before Start.
/// </summary>
public partial class SweepAxesSection
{
    private readonly List<AxisRow> rows = [];
    private List<string> errors = [];
    private string? checkedSpec;
    private int version;

    [Inject] private SweepService Service { get; set; } = default!;

    /// <summary>The form's spec: what every run starts from.</summary>
    [Parameter, EditorRequired] public ExperimentSpec Spec { get; set; } = new();

    /// <summary>The axes changed (the page relabels its Start button).</summary>
    [Parameter] public EventCallback OnChanged { get; set; }

    public bool HasAxes => rows.Count > 0;

    /// <summary>The product of the value counts as typed (each comma-separated part counts, read or not).</summary>
    public int RunCount => (int)Math.Min(int.MaxValue,
        rows.Aggregate(1L, (n, r) => Math.Min(int.MaxValue, n * r.Values.Split(',').Count(v => !string.IsNullOrWhiteSpace(v)))));

    /// <summary>Any problem with the axes or a run they make.</summary>
    public bool HasErrors => errors.Count > 0 || rows.Any(r => r.Errors.Count > 0);

    protected override async Task OnParametersSetAsync()
    {
        // The form changed: a combination that passed may not any more (and the other way round).
        if (rows.Count > 0 && SpecJson.Write(Spec) != checkedSpec)
            await ValidateAsync();
    }

    private async Task AddAsync()
    {
        // Bits first (what a sweep varies most often), else the first field no axis has yet; its values start as the form's.
        var unused = SweepFields.All.Select(f => f.Path).Where(p => rows.All(r => r.Path != p)).ToList();
        var path = unused.Contains("quantization.bits") ? "quantization.bits" : unused.FirstOrDefault() ?? "quantization.bits";
        rows.Add(new AxisRow { Path = path, Values = SweepAxis.Format(SweepExpander.ValueAt(Spec, path)) });
        await ChangedAsync();
    }

    private async Task RemoveAsync(int index)
    {
        rows.RemoveAt(index);
        await ChangedAsync();
    }

    private async Task SetPathAsync(int index, string? path)
    {
        rows[index].Path = path ?? "";
        await ChangedAsync();
    }

    private async Task SetValuesAsync(int index, string? values)
    {
        rows[index].Values = values ?? "";
        await ChangedAsync();
    }

    private async Task ChangedAsync()
    {
        await ValidateAsync();
        await OnChanged.InvokeAsync();
    }

    /// <summary>The axes as typed, or null when one does not read (its row then says why).</summary>
    private List<SweepAxis>? ReadAxes()
    {
        var axes = new List<SweepAxis>();
        foreach (var row in rows)
        {
            var (axis, error) = SweepAxis.FromText(row.Path, row.Values);
            row.Errors = error is null ? [] : [error];
            if (axis is not null)
                axes.Add(axis);
        }
        return rows.Any(r => r.Errors.Count > 0) ? null : axes;
    }

    /// <summary>Checks the axes and every run they make; a later change wins over a check still under way.</summary>
    public async Task ValidateAsync()
    {
        var mine = ++version;
        var spec = SpecJson.Write(Spec);
        checkedSpec = spec;
        errors = [];
        if (rows.Count == 0 || ReadAxes() is not { } axes)
            return;
        var plan = await Service.PlanAsync(new SweepRequest(null, spec, axes));
        if (mine != version)
            return;
        ShowErrors(plan.Errors);
    }

    /// <summary>Problems of one axis go beside it; the rest (the spec, the run limit) below the axes.</summary>
    private void ShowErrors(IReadOnlyList<SpecError> found)
    {
        var general = new List<string>();
        foreach (var e in found)
        {
            var row = Enumerable.Range(0, rows.Count).Where(i => e.Field == $"axes[{i}]" || e.Field.StartsWith($"axes[{i}].", StringComparison.Ordinal))
                .Cast<int?>().FirstOrDefault();
            if (row is { } i)
                rows[i].Errors.Add(e.Message);
            else
                general.Add(e.Field.StartsWith("spec.", StringComparison.Ordinal) ? $"{e.Field["spec.".Length..]}: {e.Message}" : e.Message);
        }
        errors = general;
    }

    /// <summary>Creates the sweep when every run is valid; its id, or null (and the problems shown).</summary>
    public async Task<long?> StartAsync()
    {
        version++;
        errors = [];
        if (ReadAxes() is not { } axes)
            return null;
        var (sweep, found) = await Service.CreateAsync(new SweepRequest(null, SpecJson.Write(Spec), axes));
        if (sweep is null)
        {
            ShowErrors(found);
            return null;
        }
        return sweep.Sweep.Id;
    }

    private sealed class AxisRow
    {
        public string Path { get; set; } = "";
        public string Values { get; set; } = "";
        public List<string> Errors { get; set; } = [];
    }
}
