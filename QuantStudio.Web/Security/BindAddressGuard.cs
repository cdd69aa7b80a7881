using System.Net;

namespace QuantStudio.Web.Security;

/// <summary>Refuses to start an open server: listening beyond loopback needs an API key.</summary>
public static class BindAddressGuard
{
    /// <summary>The addresses in <paramref name="urls"/> (separated by ';') that are not loopback.</summary>
    public static IReadOnlyList<string> NonLoopback(string urls)
    {
        var open = new List<string>();
        foreach (var raw in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var host = HostOf(raw);
            if (!IsLoopback(host))
                open.Add(raw);
        }
        return open;
    }

    /// <summary>Throws with a message saying what to do when the server would listen beyond loopback without a key.</summary>
    public static void Check(string urls, string? apiKey)
    {
        var open = NonLoopback(urls);
        if (open.Count > 0 && string.IsNullOrWhiteSpace(apiKey))
            throw new InvalidOperationException(
                $"QuantStudio refuses to listen on {string.Join(", ", open)} without an API key: anyone who can reach that " +
                "address could start runs and read results. Set QuantStudio:ApiKey in appsettings.json (or the environment " +
                "variable QuantStudio__ApiKey), or bind to 127.0.0.1.");
    }

    private static string HostOf(string url)
    {
        // Kestrel accepts wildcards that Uri does not parse ("http://*:5000", "http://+:5000").
        var s = url;
        var scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            s = s[(scheme + 3)..];
        var slash = s.IndexOf('/');
        if (slash >= 0)
            s = s[..slash];
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']');
            return close > 0 ? s[1..close] : s;
        }
        var colon = s.LastIndexOf(':');
        return colon >= 0 ? s[..colon] : s;
    }

    private static bool IsLoopback(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
