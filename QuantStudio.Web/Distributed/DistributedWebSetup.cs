using Microsoft.Extensions.Options;
using QuantStudio.Core.Distributed;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Distributed;

/// <summary>
/// A web node in distributed mode: the PostgreSQL store (runs, events, claims, change feed), the artifact store, the work queue
/// and its dispatcher instead of the in-process <see cref="RunQueue"/>, and the bridge that keeps pages live from the feed.
/// </summary>
public static class DistributedWebSetup
{
    public static IServiceCollection AddDistributedRuns(this IServiceCollection services, DistributedOptions settings)
    {
        // Refused at start, each problem named, rather than at the first run.
        settings.Validate();
        var storeOptions = new PostgresStoreOptions { ConnectionString = settings.Postgres!, HeartbeatStaleAfter = settings.StaleAfter };
        services.AddSingleton(sp => new PostgresRunStore(storeOptions with
        {
            OnRetry = (e, attempt) => sp.GetRequiredService<ILogger<PostgresRunStore>>()
                .LogWarning("The store is unreachable (attempt {Attempt}): {Error}; retrying", attempt, e.Message),
        }));
        services.AddSingleton<IRunStore>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IRunClaims>(sp => sp.GetRequiredService<PostgresRunStore>());
        services.AddSingleton<IStoreChangeFeed>(sp => new PostgresChangeFeed(storeOptions,
            onHandlerError: e => sp.GetRequiredService<ILogger<PostgresChangeFeed>>().LogError(e, "A change feed handler failed")));
        services.AddSingleton(_ => CreateArtifactStore(settings, storeOptions));
        services.AddSingleton(sp => new RunWorkQueue(settings.RabbitMq!, settings.Queue, $"quantstudio web {Environment.MachineName}",
            sp.GetRequiredService<ILogger<RunWorkQueue>>()));
        services.AddSingleton<WorkQueueDispatcher>();
        services.AddSingleton<IRunDispatcher>(sp => sp.GetRequiredService<WorkQueueDispatcher>());
        services.AddSingleton(sp => new RunDownloads(sp.GetRequiredService<IOptions<QuantStudioOptions>>(), sp.GetRequiredService<IArtifactStore>()));
        services.AddHostedService<StoreChangeBridge>();
        return services;
    }

    /// <summary>The artifact store the settings name: PostgreSQL (the default) or a folder every node mounts.</summary>
    public static IArtifactStore CreateArtifactStore(DistributedOptions settings, PostgresStoreOptions storeOptions) =>
        settings.ArtifactsFolder is { } folder ? new FolderArtifactStore(folder) : new PostgresArtifactStore(storeOptions);
}
