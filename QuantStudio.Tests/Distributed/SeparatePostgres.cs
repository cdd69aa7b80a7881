using Npgsql;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// A PostgreSQL cluster of its own (the newest installed server, as scripts/services.sh picks it), in a temporary folder, on a
/// free port, its socket in that folder, the superuser role quantstudio with trust authentication: for a test that stops and
/// starts the server, which it may not do to the shared one. initdb and the server refuse to run as root, so as root they run
/// as the postgres system user (which the postgresql package creates), in a folder it owns. Disposing stops the server at
/// once and deletes the folder, whatever state the test left it in.
/// </summary>
public sealed class SeparatePostgres : IAsyncDisposable
{
    private const string Installed = "/usr/lib/postgresql";
    private readonly string bin;
    private readonly string dir;

    private SeparatePostgres(string bin, string dir, int port)
    {
        this.bin = bin;
        this.dir = dir;
        Port = port;
        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "quantstudio", Database = "postgres",
        }.ConnectionString;
    }

    public int Port { get; }

    /// <summary>The maintenance database as the superuser (no password: trust authentication on the loopback).</summary>
    public string AdminConnectionString { get; }

    public bool IsRunning { get; private set; }

    private string DataDirectory => Path.Combine(dir, "data");
    private string LogFile => Path.Combine(dir, "server.log");

    /// <summary>The server's log so far, for a test's failure message.</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    public static async Task<SeparatePostgres> StartAsync()
    {
        var version = Directory.Exists(Installed)
            ? Directory.GetDirectories(Installed).Select(Path.GetFileName).Where(v => int.TryParse(v, out _)).MaxBy(v => int.Parse(v!))
            : null;
        if (version is null || !File.Exists(Path.Combine(Installed, version, "bin", "initdb")))
            throw new InvalidOperationException($"no PostgreSQL server under {Installed} (scripts/install-deps.sh installs it)");
        var port = LocalServers.FreePort();
        var dir = Path.Combine(Path.GetTempPath(), $"qs-pg-{port}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        var server = new SeparatePostgres(Path.Combine(Installed, version, "bin"), dir, port);
        try
        {
            if (Environment.IsPrivilegedProcess)
                await server.CheckAsync("chown", "postgres:postgres", dir);
            await server.CheckAsync(server.AsServerUser("initdb", "-D", server.DataDirectory, "-U", "quantstudio", "-A", "trust", "-E", "UTF8",
                "--no-locale", "--no-sync", "--no-instructions"));
            await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "postgresql.conf"),
                $"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\nmax_connections = 50\n");
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the server, as a restart does: "fast" ends every session (clients get 57P01, admin shutdown) and checkpoints;
    /// "immediate" ends it without a checkpoint, as a crash, and the next start recovers from the WAL.
    /// </summary>
    public async Task StopAsync(string mode = "fast")
    {
        await CheckAsync(AsServerUser("pg_ctl", "stop", "-D", DataDirectory, "-m", mode, "-w", "-t", "60"));
        IsRunning = false;
    }

    /// <summary>Starts the stopped server again, on the same port and data, and returns once it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        await CheckAsync(AsServerUser("pg_ctl", "start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60"));
        IsRunning = true;
    }

    /// <summary>The command line of one of the server's programs, as the postgres system user when this process is root.</summary>
    private string[] AsServerUser(string program, params string[] args)
    {
        var path = Path.Combine(bin, program);
        return Environment.IsPrivilegedProcess ? ["runuser", "-u", "postgres", "--", path, .. args] : [path, .. args];
    }

    private async Task CheckAsync(params string[] command)
    {
        var (code, output) = await RunAsync(command);
        if (code != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} exited with {code}: {output}\n--- server log\n{Log}");
    }

    private static Task<(int Code, string Output)> RunAsync(string[] command) => LocalServers.RunAsync(command[0], command[1..]);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            await RunAsync(AsServerUser("pg_ctl", "stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"));
        IsRunning = false;
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
