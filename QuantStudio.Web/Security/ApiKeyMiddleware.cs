using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Security;

/// <summary>
/// When an API key is configured, every request but the login page, static files and the health check
/// needs the header <c>X-Api-Key</c> or the login cookie. API, hub and circuit (/_blazor) calls get 401; pages redirect to /login.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<QuantStudioOptions> options, ApiKeyCookie cookie)
{
    public const string HeaderName = "X-Api-Key";
    public const string CookieName = "qs_login";

    public async Task InvokeAsync(HttpContext context)
    {
        var key = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(key) || IsPublic(context.Request.Path) || IsAuthenticated(context, key))
        {
            await next(context);
            return;
        }

        var path = context.Request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_blazor") ||
            path.StartsWithSegments("/openapi"))
        {
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
                detail: $"Send the header {HeaderName} with the key configured in QuantStudio:ApiKey, or log in at /login.").ExecuteAsync(context);
            return;
        }
        var back = Uri.EscapeDataString(path + context.Request.QueryString);
        context.Response.Redirect("/login?returnUrl=" + back);
    }

    /// <summary>Checks a submitted key in constant time.</summary>
    public static bool Matches(string? candidate, string key) =>
        candidate is not null &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private bool IsAuthenticated(HttpContext context, string key)
    {
        if (Matches(context.Request.Headers[HeaderName].FirstOrDefault(), key))
            return true;
        // The cookie goes with requests from every port of the same host name; it counts only for this origin's own pages.
        return SameOriginGuard.IsSameOrigin(context.Request) && context.Request.Cookies.TryGetValue(CookieName, out var value) && cookie.IsValid(value);
    }

    private static bool IsPublic(PathString path) =>
        path.StartsWithSegments("/login") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/_framework") ||
        path.StartsWithSegments("/_content") || path == "/site.css" || path == "/QuantStudio.Web.styles.css" || path == "/favicon.ico";
}

/// <summary>The login cookie's value: protected with the server's data-protection keys, so it cannot be forged.</summary>
public sealed class ApiKeyCookie(IDataProtectionProvider protection)
{
    private const string Content = "quantstudio-login";
    private readonly IDataProtector protector = protection.CreateProtector("QuantStudio.Login");

    public string Create() => protector.Protect(Content);

    public bool IsValid(string value)
    {
        try
        {
            return protector.Unprotect(value) == Content;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
