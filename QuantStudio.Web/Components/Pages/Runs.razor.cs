using Microsoft.AspNetCore.Components;
using QuantStudio.Web.Components.Panels;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Components.Pages;

/// <summary>
/// Every run, live: the run list's change feed (<see cref="RunListNotifier"/>, which collapses quick changes to one run)
/// re-reads the changed runs a few times a second. Filters, sorting and the selection to compare work in place.
/// </summary>
public partial class Runs
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource disposed = new();
    private readonly Dictionary<long, RunRecord> runs = [];
    private readonly HashSet<long> selected = [];
    private string sort = "id";
    private bool descending = true;
    private bool following;

    [Inject] private IRunStore Store { get; set; } = default!;
    [Inject] private RunListNotifier Notifier { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;

    [SupplyParameterFromQuery] public string? Status { get; set; }
    [SupplyParameterFromQuery] public string? Method { get; set; }
    [SupplyParameterFromQuery] public string? Dataset { get; set; }
    [SupplyParameterFromQuery] public string? Q { get; set; }
    [SupplyParameterFromQuery(Name = "sort")] public string? SortQuery { get; set; }
    [SupplyParameterFromQuery(Name = "dir")] public string? DirQuery { get; set; }

    /// <summary>The runs that pass the filters, in the chosen order.</summary>
    internal IReadOnlyList<RunRecord> Shown => RunsTable.Order(runs.Values.Where(r =>
            (string.IsNullOrEmpty(Status) || r.Status.ToName() == Status) &&
            (string.IsNullOrEmpty(Method) || r.Method == Method) &&
            (string.IsNullOrEmpty(Dataset) || r.Dataset == Dataset) &&
            (string.IsNullOrWhiteSpace(Q) || r.Name.Contains(Q.Trim(), StringComparison.OrdinalIgnoreCase))), sort, descending)
        .ToList();

    protected override async Task OnInitializedAsync()
    {
        sort = SortQuery ?? "id";
        descending = DirQuery != "asc";
        // Subscribe before reading, so a change made during the read is seen again rather than lost.
        if (RendererInfo.IsInteractive)
            Follow();
        foreach (var r in await Store.ListRunsAsync())
            runs[r.Id] = r;
    }

    private void Follow()
    {
        if (following)
            return;
        following = true;
        var sub = Notifier.Subscribe();
        var ct = disposed.Token;
        _ = Task.Run(async () =>
        {
            using (sub)
            {
                try
                {
                    while (!ct.IsCancellationRequested)
                    {
                        await sub.WaitAsync(ct);
                        await Task.Delay(RefreshInterval, ct);
                        var changed = new List<(long Id, RunRecord? Run)>();
                        foreach (var id in sub.Take())
                            changed.Add((id, await Store.GetRunAsync(id, ct)));
                        await InvokeAsync(() =>
                        {
                            foreach (var (id, run) in changed)
                            {
                                if (run is null)
                                {
                                    runs.Remove(id);
                                    selected.Remove(id);
                                }
                                else
                                {
                                    runs[id] = run;
                                }
                            }
                            StateHasChanged();
                        });
                    }
                }
                catch (Exception ex) when (ct.IsCancellationRequested || ex is ObjectDisposedException)
                {
                    // The page went away.
                }
            }
        }, CancellationToken.None);
    }

    private void SortBy(string key)
    {
        descending = sort != key || !descending;
        sort = key;
    }

    private void Toggle(long id)
    {
        if (!selected.Remove(id))
            selected.Add(id);
    }

    private void Compare() => Nav.NavigateTo("/compare?ids=" + string.Join(",", selected.Order()));

    // The source is cancelled, not disposed: the follow loop may still read its token.
    public void Dispose() => disposed.Cancel();
}
