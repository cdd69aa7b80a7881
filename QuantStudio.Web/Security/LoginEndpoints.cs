using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Security;

/// <summary>POST /login (the form on the login page) and POST /logout; the login cookie stands in for the X-Api-Key header.</summary>
public static class LoginEndpoints
{
    public static IEndpointRouteBuilder MapLoginEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/login", ([FromForm] string? apiKey, [FromForm] string? returnUrl, HttpContext http, IOptions<QuantStudioOptions> options,
            ApiKeyCookie cookie) =>
        {
            var key = options.Value.ApiKey;
            var back = IsLocal(returnUrl) ? returnUrl! : "/";
            if (string.IsNullOrWhiteSpace(key))
                return Results.Redirect(back);
            if (!ApiKeyMiddleware.Matches(apiKey, key))
                return Results.Redirect("/login?failed=1&returnUrl=" + Uri.EscapeDataString(back));
            http.Response.Cookies.Append(ApiKeyMiddleware.CookieName, cookie.Create(), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                IsEssential = true,
                MaxAge = TimeSpan.FromDays(30),
            });
            return Results.Redirect(back);
        }).ExcludeFromDescription();
        return app;
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
}
