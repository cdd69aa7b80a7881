using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Sweeps;

/// <summary>
/// Sweeps for the form and the API: a sweep is expanded and every run checked with the rules a single run passes
/// (<see cref="SpecChecks"/>) before anything is stored; then the sweep and its runs are stored together and each run is
/// queued as <see cref="RunService.CreateAsync"/> queues one.
/// </summary>
public sealed class SweepService(IRunStore store, SpecChecks checks, RunService runs, IOptions<SweepOptions> options, TimeProvider time)
{
    public int MaxRuns => options.Value.MaxRuns;

    /// <summary>The runs a sweep would make, or the errors that stop it; stores nothing.</summary>
    public Task<SweepPlan> PlanAsync(SweepRequest request, CancellationToken ct = default) =>
        SweepExpander.ExpandAsync(request, options.Value.MaxRuns, checks.CheckAsync, SweepOptions.Section + ":MaxRuns", ct);

    /// <summary>Stores and queues the sweep's runs when every one is valid; otherwise the errors, and nothing stored.</summary>
    public async Task<(SweepView? Sweep, IReadOnlyList<SpecError> Errors)> CreateAsync(SweepRequest request, CancellationToken ct = default)
    {
        var plan = await PlanAsync(request, ct);
        if (!plan.IsValid)
            return (null, plan.Errors);
        var now = time.GetUtcNow();
        var (sweep, stored) = await store.CreateSweepAsync(new NewSweep(plan.Name, plan.SpecJson, SweepAxis.WriteAll(plan.Axes), now),
            plan.Runs.Select(r => new NewRun(r.Name, r.Spec, now)).ToList(), ct);
        foreach (var run in stored)
            await runs.EnqueueAsync(run, ct);
        return (SweepView.From(sweep, stored), []);
    }

    public async Task<SweepView?> GetAsync(long id, CancellationToken ct = default) =>
        await store.GetSweepAsync(id, ct) is { } sweep ? SweepView.From(sweep, await store.ListSweepRunsAsync(id, ct)) : null;

    /// <summary>Every sweep with its runs, newest first.</summary>
    public async Task<IReadOnlyList<SweepView>> ListAsync(CancellationToken ct = default)
    {
        var list = new List<SweepView>();
        foreach (var sweep in await store.ListSweepsAsync(ct))
            list.Add(SweepView.From(sweep, await store.ListSweepRunsAsync(sweep.Id, ct)));
        return list;
    }
}

public static class SweepServiceRegistration
{
    /// <summary>The sweep service and its options (<see cref="SweepOptions.Section"/>).</summary>
    public static IServiceCollection AddQuantStudioSweeps(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SweepOptions>(configuration.GetSection(SweepOptions.Section));
        services.AddSingleton<SweepService>();
        return services;
    }
}
