using System.Diagnostics;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// A RabbitMQ node of its own (a second node of the installed server, on a free port, with its own data folder and
/// rabbitmq.conf), for a test that needs broker settings no other test may see: RabbitMQ 3.10 has consumer_timeout only as a
/// global setting. Started and stopped as the rabbitmq user, whose Erlang cookie the tools share.
/// </summary>
public sealed class SeparateBroker : IAsyncDisposable
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly string dir;
    private Process? process;

    private SeparateBroker(int port, string dir)
    {
        Port = port;
        this.dir = dir;
        NodeName = $"qstest{port}@localhost";
    }

    public int Port { get; }
    public string NodeName { get; }
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<SeparateBroker> StartAsync(string config)
    {
        var port = LocalServers.FreePort();
        var dir = Path.Combine(Path.GetTempPath(), $"qs-broker-{port}");
        Directory.CreateDirectory(Path.Combine(dir, "mnesia"));
        Directory.CreateDirectory(Path.Combine(dir, "log"));
        await File.WriteAllTextAsync(Path.Combine(dir, "rabbitmq.conf"), $"listeners.tcp.default = 127.0.0.1:{port}\n{config}\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "enabled_plugins"), "[].\n");
        await LocalServers.RunAsync("chown", "-R", "rabbitmq:rabbitmq", dir);
        var broker = new SeparateBroker(port, dir);
        var env = string.Join(' ',
            $"RABBITMQ_NODENAME={broker.NodeName}", $"RABBITMQ_NODE_PORT={port}", $"RABBITMQ_DIST_PORT={LocalServers.FreePort()}",
            $"RABBITMQ_MNESIA_BASE={dir}/mnesia", $"RABBITMQ_LOG_BASE={dir}/log", $"RABBITMQ_CONFIG_FILE={dir}/rabbitmq.conf",
            $"RABBITMQ_ENABLED_PLUGINS_FILE={dir}/enabled_plugins", $"RABBITMQ_PID_FILE={dir}/pid");
        var info = new ProcessStartInfo("su") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "rabbitmq", "-s", "/bin/sh", "-c", $"{env} exec {Server}" })
            info.ArgumentList.Add(a);
        broker.process = Process.Start(info)!;
        broker.process.OutputDataReceived += (_, _) => { };
        broker.process.ErrorDataReceived += (_, _) => { };
        broker.process.BeginOutputReadLine();
        broker.process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await LocalServers.AcceptsAsync(port))
        {
            if (broker.process.HasExited || DateTime.UtcNow > deadline)
            {
                await broker.DisposeAsync();
                throw new InvalidOperationException($"the separate RabbitMQ node did not start; see {dir}/log");
            }
            await Task.Delay(500);
        }
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        await LocalServers.RunAsync("su", "rabbitmq", "-s", "/bin/sh", "-c", $"rabbitmqctl -n {NodeName} stop");
        if (process is { HasExited: false })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process?.Dispose();
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
