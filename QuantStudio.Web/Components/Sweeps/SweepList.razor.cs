using Microsoft.AspNetCore.Components;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Web.Components.Sweeps;

/// <summary>Every sweep, newest first, with how many of its runs have ended; re-read when runs change.</summary>
public partial class SweepList
{
    private readonly CancellationTokenSource disposed = new();
    private IReadOnlyList<SweepView> sweeps = [];
    private bool following;

    [Inject] private SweepService Service { get; set; } = default!;
    [Inject] private RunListNotifier Notifier { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        if (RendererInfo.IsInteractive)
            Follow();
        sweeps = await Service.ListAsync(disposed.Token);
    }

    private void Follow()
    {
        if (following)
            return;
        following = true;
        _ = Notifier.FollowAsync(SweepDetail.RefreshInterval, async (_, ct) =>
        {
            var fresh = await Service.ListAsync(ct);
            await InvokeAsync(() =>
            {
                sweeps = fresh;
                StateHasChanged();
            });
        }, disposed.Token);
    }

    public void Dispose() => disposed.Cancel();
}
