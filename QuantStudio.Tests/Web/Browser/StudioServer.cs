using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using QuantStudio.Web;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web.Browser;

/// <summary>Which <see cref="QuantStudio.Core.Experiments.IExperimentRunner"/> the app runs.</summary>
public enum StudioRunner
{
    /// <summary>SimulatedExperimentRunner: a deterministic event stream, no training.</summary>
    Simulated,

    /// <summary>Whatever RunnerRegistration picks without the simulation: the trainer.</summary>
    Trainer,
}

/// <summary>
/// The real app, built by the same setup as Program (AddQuantStudio / UseQuantStudio), served by Kestrel on a free
/// loopback port, on a temporary data folder, with the web project's wwwroot. Disposing stops it and removes the data.
/// </summary>
public sealed class StudioServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private readonly bool keepData;

    private StudioServer(WebApplication app, string dataDirectory, Uri baseUri, bool keepData)
    {
        this.app = app;
        this.keepData = keepData;
        DataDirectory = dataDirectory;
        BaseUri = baseUri;
    }

    public string DataDirectory { get; }
    public Uri BaseUri { get; }
    public IServiceProvider Services => app.Services;
    public IRunStore Store => app.Services.GetRequiredService<IRunStore>();

    /// <summary>
    /// Starts the app. Given <paramref name="dataDirectory"/> and <paramref name="port"/> (a restart of a server that
    /// stopped), it serves that data folder on that port and leaves the folder in place when disposed.
    /// </summary>
    public static async Task<StudioServer> StartAsync(StudioRunner runner, IReadOnlyDictionary<string, string>? settings = null,
        string? dataDirectory = null, int port = 0)
    {
        var data = dataDirectory ?? StudioPaths.NewDataDirectory("qs-browser-");
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            "--QuantStudio:DataDirectory=" + data,
            "--QuantStudio:SimulatedRunner=" + (runner == StudioRunner.Simulated).ToString(CultureInfo.InvariantCulture).ToLowerInvariant(),
            "--Logging:LogLevel:Default=Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
            args.Add($"--{k}={v}");

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. args],
            ApplicationName = typeof(QuantStudioWebSetup).Assembly.GetName().Name,
            ContentRootPath = StudioPaths.WebProjectDirectory,
            WebRootPath = StudioPaths.WebRoot,
            EnvironmentName = "Testing",
        });
        builder.AddQuantStudio();
        var app = builder.Build();
        app.UseQuantStudio();
        using var startTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(startTimeout.Token);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new StudioServer(app, data, new Uri(address), keepData: dataDirectory is not null);
    }

    public async ValueTask DisposeAsync()
    {
        using (var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            try
            {
                await app.StopAsync(stopTimeout.Token);
            }
            catch (OperationCanceledException)
            {
                // A run that does not stop in time must not keep the test from cleaning up.
            }
        }
        await app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!keepData)
            QuantStudioFactory.DeleteData(DataDirectory);
    }
}
