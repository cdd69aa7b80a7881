using QuantStudio.Web.Api;

namespace QuantStudio.Web.Security;

/// <summary>
/// Refuses requests another site's page can make a browser send: any state-changing request (POST, PUT, PATCH, DELETE)
/// and any hub or circuit (/_blazor) connection (a WebSocket has no CORS) whose Sec-Fetch-Site is not same-origin, or whose Origin is not this
/// server's. Another port on localhost is another origin (though the same site, and the login cookie goes there too).
/// Also refuses, on the API, the body types a cross-site form can send without a preflight (form-encoded, text/plain;
/// multipart only for the upload).
/// </summary>
public sealed class SameOriginGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path;
        var stateChanging = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        if ((stateChanging || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_blazor")) && !IsSameOrigin(request))
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin request refused",
                detail: "this request came from a page of another origin; QuantStudio accepts changes only from its own pages " +
                        "or from clients that send no Origin (curl, scripts)").ExecuteAsync(context);
            return;
        }
        if (stateChanging && path.StartsWithSegments("/api") && IsSimpleFormType(request, allowMultipart: path.StartsWithSegments("/api/uploads")))
        {
            await Problems.UnsupportedMediaType(request.ContentType).ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    /// <summary>
    /// True unless the browser says the request comes from another origin. Clients that are not browsers send neither
    /// Sec-Fetch-Site nor Origin; browsers send Origin with every cross-origin POST and WebSocket.
    /// </summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
            return false;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
            return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || !request.Host.HasValue)
            return false;
        var port = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return string.Equals(o.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase) &&
               string.Equals(o.Host.Trim('[', ']'), request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) &&
               o.Port == port;
    }

    private static bool IsSimpleFormType(HttpRequest request, bool allowMultipart)
    {
        var type = request.ContentType;
        if (string.IsNullOrEmpty(type))
            return false;
        return type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) ||
               type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) ||
               (!allowMultipart && type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase));
    }
}
