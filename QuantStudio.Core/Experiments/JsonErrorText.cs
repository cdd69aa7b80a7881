using System.Text.RegularExpressions;
using System.Text.Json;

namespace QuantStudio.Core.Experiments;

/// <summary>System.Text.Json's error messages in a user's terms: the field's dotted path, and JSON types instead of .NET ones.</summary>
public static partial class JsonErrorText
{
    /// <summary>The dotted path of the field at fault (<c>quantization.bits</c>), or null for the document as a whole.</summary>
    public static string? Field(JsonException e) =>
        string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.TrimStart('$', '.');

    /// <summary>The first sentence of the message, with .NET type names replaced by what the JSON should hold.</summary>
    public static string Describe(JsonException e)
    {
        var msg = e.Message;
        var cut = msg.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
            msg = msg[..cut];
        return DotNetType().Replace(msg, m => m.Value switch
        {
            "System.Int32" or "System.Int64" or "System.UInt16" or "System.UInt32" or "System.UInt64" => "an integer",
            "System.Double" or "System.Single" => "a number",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            _ when m.Value.StartsWith("System.Nullable", StringComparison.Ordinal) => "a value or null",
            _ when m.Value.StartsWith("System.Collections", StringComparison.Ordinal) || m.Value.EndsWith("[]", StringComparison.Ordinal) => "a list",
            _ => "an object",
        });
    }

    [GeneratedRegex(@"(System|QuantStudio)(\.\w+)+(`\d+\[[^\]]*\])?(\[\])?")]
    private static partial Regex DotNetType();
}
