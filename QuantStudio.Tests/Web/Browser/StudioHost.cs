namespace QuantStudio.Tests.Web.Browser;

/// <summary>
/// The app for a browser test, restartable: <see cref="RestartAsync"/> stops it (as a deployment or a crash-free restart
/// would) and starts it again on the same port and data folder, so an open page reconnects to the new process.
/// Disposing stops it and removes the data folder.
/// </summary>
public sealed class StudioHost : IAsyncDisposable
{
    private readonly string data = StudioPaths.NewDataDirectory("qs-browser-");
    private readonly StudioRunner runner;
    private readonly IReadOnlyDictionary<string, string> settings;

    private StudioHost(StudioRunner runner, IReadOnlyDictionary<string, string> settings)
    {
        this.runner = runner;
        this.settings = settings;
    }

    public StudioServer Server { get; private set; } = null!;

    public static async Task<StudioHost> StartAsync(StudioRunner runner, IReadOnlyDictionary<string, string>? settings = null)
    {
        var host = new StudioHost(runner, settings ?? new Dictionary<string, string>());
        host.Server = await StudioServer.StartAsync(runner, host.settings, host.data);
        return host;
    }

    public async Task RestartAsync()
    {
        var port = Server.BaseUri.Port;
        await Server.DisposeAsync();
        Server = await StudioServer.StartAsync(runner, settings, data, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
            await Server.DisposeAsync();
        QuantStudioFactory.DeleteData(data);
    }
}
