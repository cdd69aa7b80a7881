using Microsoft.AspNetCore.Components;
using QuantStudio.Web.Components.Panels;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Components.Pages;

/// <summary>
/// Every run, live: the run list's change feed (<see cref="RunListNotifier"/>, which collapses quick changes to one run)
/// re-reads the changed runs a few times a second. Filters, sorting and the selection to compare work in place; the
/// filters and the sort are kept in the URL's query (replacing the history entry, without a reload), so a reload or a
/// shared link shows the same list.
/// </summary>
public partial class Runs
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource disposed = new();
    private readonly Dictionary<long, RunRecord> runs = [];
    private readonly HashSet<long> selected = [];
    /// <summary>Queries this page wrote to the URL that have not come back as parameters yet.</summary>
    private readonly Queue<RunsQuery> written = new();
    private string? status;
    private string? method;
    private string? dataset;
    private string? q;
    private string sort = "id";
    private bool descending = true;
    private bool following;

    [Inject] private IRunStore Store { get; set; } = default!;
    [Inject] private RunListNotifier Notifier { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "status")] public string? StatusQuery { get; set; }
    [SupplyParameterFromQuery(Name = "method")] public string? MethodQuery { get; set; }
    [SupplyParameterFromQuery(Name = "dataset")] public string? DatasetQuery { get; set; }
    [SupplyParameterFromQuery(Name = "q")] public string? SearchQuery { get; set; }
    [SupplyParameterFromQuery(Name = "sort")] public string? SortQuery { get; set; }
    [SupplyParameterFromQuery(Name = "dir")] public string? DirQuery { get; set; }

    /// <summary>The runs that pass the filters, in the chosen order.</summary>
    internal IReadOnlyList<RunRecord> Shown => RunsTable.Order(runs.Values.Where(r =>
            (string.IsNullOrEmpty(status) || r.Status.ToName() == status) &&
            (string.IsNullOrEmpty(method) || r.Method == method) &&
            (string.IsNullOrEmpty(dataset) || r.Dataset == dataset) &&
            (string.IsNullOrWhiteSpace(q) || r.Name.Contains(q.Trim(), StringComparison.OrdinalIgnoreCase))), sort, descending)
        .ToList();

    protected override void OnParametersSet()
    {
        var query = RunsQuery.Of(StatusQuery, MethodQuery, DatasetQuery, SearchQuery, SortQuery, DirQuery);
        // A query this page wrote comes back once the browser has taken it; the page may be ahead of it by then (a
        // search typed on), so it is not applied again. Any other query (a link, the back button) is.
        if (written.Contains(query))
        {
            while (written.Dequeue() != query)
            {
            }
            return;
        }
        written.Clear();
        (status, method, dataset, q, sort, descending) = (query.Status, query.Method, query.Dataset, query.Search, query.Sort, query.Descending);
    }

    /// <summary>Puts the filters and the sort into the URL, replacing the history entry; the defaults are left out.</summary>
    private void WriteQuery()
    {
        var query = RunsQuery.Of(status, method, dataset, q, sort, descending ? null : "asc");
        if (written.Count >= 64)
            written.Dequeue();
        written.Enqueue(query);
        Nav.NavigateTo(Nav.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["status"] = query.Status,
            ["method"] = query.Method,
            ["dataset"] = query.Dataset,
            ["q"] = query.Search,
            ["sort"] = query.Sort == RunsQuery.DefaultSort ? null : query.Sort,
            ["dir"] = query.Descending ? null : "asc",
        }), replace: true);
    }

    protected override async Task OnInitializedAsync()
    {
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
        _ = Notifier.FollowAsync(RefreshInterval, async (ids, ct) =>
        {
            var changed = new List<(long Id, RunRecord? Run)>();
            foreach (var id in ids)
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
        }, disposed.Token);
    }

    private void SortBy(string key)
    {
        descending = sort != key || !descending;
        sort = key;
        WriteQuery();
    }

    private void Toggle(long id)
    {
        if (!selected.Remove(id))
            selected.Add(id);
    }

    private void Compare() => Nav.NavigateTo("/compare?ids=" + string.Join(",", selected.Order()));

    // The source is cancelled, not disposed: the follow loop may still read its token.
    public void Dispose() => disposed.Cancel();

    /// <summary>The list's filters and sort as the URL holds them: empty values are none, and the sort is by id, newest first, unless said.</summary>
    private sealed record RunsQuery(string? Status, string? Method, string? Dataset, string? Search, string Sort, bool Descending)
    {
        public const string DefaultSort = "id";

        public static RunsQuery Of(string? status, string? method, string? dataset, string? search, string? sort, string? dir) =>
            new(NullIfEmpty(status), NullIfEmpty(method), NullIfEmpty(dataset), NullIfEmpty(search), NullIfEmpty(sort) ?? DefaultSort, dir != "asc");

        private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
    }
}
