using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace QuantStudio.Tests.Web;

/// <summary>
/// The web app as its own process: <c>dotnet QuantStudio.Web.dll</c> from the test output, on a free loopback port
/// (Kestrel picks it; the address is read from the app's "Now listening on" line, and it is ready once it logs "Application
/// started"), with the given data folder and settings. <see cref="Kill"/> ends it the hard way, as a crash would; disposing kills it if it is still alive.
/// </summary>
public sealed partial class StudioProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Uri? address;

    private StudioProcess(Process process) => this.process = process;

    public Uri BaseUri { get; private set; } = null!;
    public int ProcessId => process.Id;
    public bool HasExited => process.HasExited;

    /// <summary>What the process wrote so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    public static async Task<StudioProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null)
    {
        var psi = StartInfo(dataDirectory, settings);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var studio = new StudioProcess(process);
        process.OutputDataReceived += (_, e) => studio.Record(e.Data);
        process.ErrorDataReceived += (_, e) => studio.Record(e.Data);
        process.Exited += (_, _) => studio.listening.TrySetException(new InvalidOperationException("the app exited before it listened:\n" + studio.Output));
        if (!process.Start())
            throw new InvalidOperationException("dotnet did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            studio.BaseUri = await studio.listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            studio.Dispose();
            throw new TimeoutException("the app did not report its address in time:\n" + studio.Output);
        }
        return studio;
    }

    private static ProcessStartInfo StartInfo(string dataDirectory, IReadOnlyDictionary<string, string>? settings)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(StudioPaths.WebAssembly);
        psi.ArgumentList.Add("--urls=http://127.0.0.1:0");
        psi.ArgumentList.Add("--contentRoot=" + AppContext.BaseDirectory);
        psi.ArgumentList.Add("--webroot=" + StudioPaths.WebRoot);
        psi.ArgumentList.Add("--QuantStudio:DataDirectory=" + dataDirectory);
        psi.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        psi.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");
        psi.ArgumentList.Add("--Logging:Console:ColorBehavior=Disabled");
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
            psi.ArgumentList.Add($"--{k}={v}"); // later arguments win over the defaults above
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        return psi;
    }

    /// <summary>Starts the app and waits for it to exit by itself (a refused start); its exit code and everything it wrote.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, IReadOnlyDictionary<string, string> settings,
        TimeSpan timeout)
    {
        using var process = new Process { StartInfo = StartInfo(dataDirectory, settings) };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the app did not exit by itself:\n" + output);
        }
        lock (output)
            return (process.ExitCode, output.ToString());
    }

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (output)
            output.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } m)
            address = new Uri(m.Groups[1].Value.TrimEnd('/') + "/");
        // The server answers 503 until it has checked the addresses it bound; "Application started" comes after that.
        if (line.Contains("Application started", StringComparison.Ordinal) && address is not null)
            listening.TrySetResult(address);
    }

    /// <summary>SIGKILL to the app and anything it started; waits until it is gone.</summary>
    public void Kill()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            throw new TimeoutException($"process {process.Id} did not exit after being killed");
    }

    /// <summary>A hub client on /hubs/runs of this process, over a real WebSocket.</summary>
    public Task<HubProtocolClient> ConnectHubAsync() =>
        HubProtocolClient.ConnectAsync(async (uri, ct) =>
        {
            var ws = new System.Net.WebSockets.ClientWebSocket();
            await ws.ConnectAsync(uri, ct);
            return ws;
        }, new Uri($"ws://{BaseUri.Authority}/hubs/runs"));

    public HttpClient CreateClient() => new() { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(15) };

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(20));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        process.Dispose();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"QuantStudio.Web pid {process.Id} at {BaseUri}");

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
