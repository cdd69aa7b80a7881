using System.Diagnostics;
using System.Text;

namespace QuantStudio.Tests.Distributed;

/// <summary>A `quantstudio worker` child process (the built CLI), its log kept for the test's messages.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    private WorkerProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    public string Log
    {
        get
        {
            lock (log)
                return log.ToString();
        }
    }

    /// <summary>The CLI as built in Release beside the sources.</summary>
    public static string BinaryPath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "QuantStudio.sln")))
                    return Path.Combine(dir.FullName, "QuantStudio.Cli", "bin", "Release", "net10.0", "quantstudio");
            throw new InvalidOperationException("the repository root (QuantStudio.sln) is not above the test binaries");
        }
    }

    public static WorkerProcess Start(string name, string postgres, string rabbitMq, string queue, string workRoot, int maxAttempts = 3,
        int heartbeatSeconds = 1, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "worker", "--postgres", postgres, "--rabbitmq", rabbitMq, "--queue", queue, "--threads", "1",
                     "--work-dir", Path.Combine(workRoot, name), "--data", Path.Combine(workRoot, "data"), "--name", name,
                     "--max-attempts", maxAttempts.ToString(), "--heartbeat-seconds", heartbeatSeconds.ToString(),
                 })
            info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            info.Environment[k] = v;
        var p = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new WorkerProcess(name, p);
        p.OutputDataReceived += (_, e) => worker.Append(e.Data);
        p.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return worker;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (log)
            log.AppendLine(line);
    }

    /// <summary>SIGKILL: the process dies at once, as a machine that loses power.</summary>
    public void Kill()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then waits for the process to exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
