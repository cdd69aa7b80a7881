using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Security;

/// <summary>
/// Checks the addresses the server really listens on, once it has bound them, whatever set them (--urls, ASPNETCORE_URLS,
/// QuantStudio:Urls, Kestrel:Endpoints, code): beyond loopback without an API key, it logs why and stops the application
/// with exit code <see cref="RefusedExitCode"/>. Until the check has passed, <see cref="Middleware"/> answers every request
/// with 503, so nothing is served in between. The bound hosts are also what the Host header may name.
/// </summary>
public sealed class BoundAddressCheck(
    IServer server,
    IOptions<QuantStudioOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<BoundAddressCheck> log) : IHostedLifecycleService
{
    public const int RefusedExitCode = 3;

    private readonly TaskCompletionSource passedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool passed;

    /// <summary>Completes once the server may serve (the run queue waits for it before it starts runs).</summary>
    public Task Passed => passedSource.Task;

    /// <summary>The addresses the server listens on (empty for the in-memory test server).</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        Addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        var refusal = BindAddressGuard.Refusal(Addresses, options.Value.ApiKey);
        if (refusal is null)
        {
            passed = true;
            passedSource.TrySetResult();
            return Task.CompletedTask;
        }
        log.LogCritical("{Refusal}", refusal);
        Console.Error.WriteLine(refusal);
        Environment.ExitCode = RefusedExitCode;
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>First in the pipeline: 503 until the bound addresses have been checked.</summary>
    public sealed class Middleware(RequestDelegate next, BoundAddressCheck check)
    {
        public Task InvokeAsync(HttpContext context)
        {
            if (check.passed)
                return next(context);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            return Task.CompletedTask;
        }
    }
}
