using QuantStudio.Core.Distributed;
using QuantStudio.Core.Experiments;
using QuantStudio.Tests.Runs;

namespace QuantStudio.Tests.Distributed;

/// <summary>The shared stores on a test database: runs and claims, the change feed, the artifact store.</summary>
public sealed class DistributedStores : IAsyncDisposable
{
    private DistributedStores(PostgresTestDatabase db)
    {
        Options = db.StoreOptions();
        Store = new PostgresRunStore(Options);
        Feed = new PostgresChangeFeed(Options);
        Artifacts = new PostgresArtifactStore(Options);
    }

    public PostgresStoreOptions Options { get; }
    public PostgresRunStore Store { get; }
    public PostgresChangeFeed Feed { get; }
    public PostgresArtifactStore Artifacts { get; }

    /// <summary>A clean database with the schema and a started feed.</summary>
    public static async Task<DistributedStores> OpenAsync(PostgresTestDatabase db)
    {
        await db.ResetAsync();
        var stores = new DistributedStores(db);
        await stores.Store.InitializeAsync();
        await stores.Feed.StartAsync();
        return stores;
    }

    public Task<RunRecord> CreateRunAsync(ExperimentSpec? spec = null, string name = "run") =>
        Store.CreateRunAsync(new NewRun(name, spec ?? TinySpec(), DateTimeOffset.UtcNow));

    /// <summary>A valid spec (the scripted runners do not train it).</summary>
    public static ExperimentSpec TinySpec() => new()
    {
        Seed = 1,
        Dataset = new DatasetSpec { Name = "shapes" },
        Student = new StudentSpec { Arch = "cifar-student-1" },
        Method = Methods.PostTraining,
        Quantization = new QuantizationSpec { Bits = 4, BucketSize = 256 },
        Optimizer = new OptimizerSpec { Epochs = 1 },
    };

    public WorkerSettings Settings(string name, string workDir, int maxAttempts = 3, int heartbeatSeconds = 1) =>
        new(name, workDir, workDir, maxAttempts, TimeSpan.FromSeconds(heartbeatSeconds), TimeSpan.FromSeconds(3 * heartbeatSeconds));

    public async ValueTask DisposeAsync()
    {
        await Feed.StopAsync();
        await Feed.DisposeAsync();
        await Artifacts.DisposeAsync();
        await Store.DisposeAsync();
    }
}

/// <summary>A runner that does what the test says, and records each run it was given.</summary>
public sealed class LambdaRunner(Func<RunContext, CancellationToken, Task> body) : IExperimentRunner
{
    private int calls;

    public int Calls => calls;

    public Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref calls);
        return body(context, cancellationToken);
    }
}
