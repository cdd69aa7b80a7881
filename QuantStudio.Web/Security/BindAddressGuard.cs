using System.Net;

namespace QuantStudio.Web.Security;

/// <summary>Which listening addresses need an API key: every one beyond loopback.</summary>
public static class BindAddressGuard
{
    /// <summary>The addresses (each a URL, or several separated by ';') that are not loopback.</summary>
    public static IReadOnlyList<string> NonLoopback(IEnumerable<string> addresses)
    {
        var open = new List<string>();
        foreach (var raw in addresses.SelectMany(a => a.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!IsLoopback(HostOf(raw)))
                open.Add(raw);
        }
        return open;
    }

    public static IReadOnlyList<string> NonLoopback(string urls) => NonLoopback([urls]);

    /// <summary>Why the server must not serve on <paramref name="addresses"/>, or null when it may.</summary>
    public static string? Refusal(IEnumerable<string> addresses, string? apiKey)
    {
        var open = NonLoopback(addresses);
        if (open.Count == 0 || !string.IsNullOrWhiteSpace(apiKey))
            return null;
        return $"QuantStudio refuses to listen on {string.Join(", ", open)} without an API key: anyone who can reach that " +
               "address could start runs and read results. Set QuantStudio:ApiKey in appsettings.json (or the environment " +
               "variable QuantStudio__ApiKey), or bind to 127.0.0.1.";
    }

    /// <summary>The host of a listening address: Kestrel's forms included ("http://*:5000", "http://+:5000", "http://[::]:5000").</summary>
    public static string HostOf(string url)
    {
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

    public static bool IsLoopback(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
