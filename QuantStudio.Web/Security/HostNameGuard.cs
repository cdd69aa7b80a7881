using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Security;

/// <summary>
/// Serves only requests whose Host names this server: localhost, 127.0.0.1, [::1], the hosts it is bound to (not the
/// wildcards) and <see cref="QuantStudioOptions.AllowedHosts"/>. A page on another site that rebinds its own name to
/// 127.0.0.1 (DNS rebinding) sends its own name as Host, and gets 400.
/// </summary>
public sealed class HostNameGuard(RequestDelegate next, IOptions<QuantStudioOptions> options, BoundAddressCheck addresses)
{
    private static readonly string[] Loopback = ["localhost", "127.0.0.1", "::1"];
    private static readonly HashSet<string> Wildcards = ["0.0.0.0", "::", "*", "+"];

    public async Task InvokeAsync(HttpContext context)
    {
        var configured = options.Value.AllowedHosts;
        if (configured.Contains("*") || Allows(context.Request.Host, configured))
        {
            await next(context);
            return;
        }
        await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown host",
            detail: $"this server does not answer to the host '{context.Request.Host.Host}'; open it as localhost or 127.0.0.1, " +
                    "or list the name in QuantStudio:AllowedHosts").ExecuteAsync(context);
    }

    private bool Allows(HostString host, IEnumerable<string> configured)
    {
        if (!host.HasValue)
            return false;
        var name = host.Host.Trim('[', ']');
        return Loopback.Concat(configured).Concat(BoundHosts()).Any(h => string.Equals(h.Trim('[', ']'), name, StringComparison.OrdinalIgnoreCase));
    }

    private IEnumerable<string> BoundHosts() =>
        addresses.Addresses.Select(BindAddressGuard.HostOf).Where(h => !Wildcards.Contains(h));
}
