using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Json;

namespace QuantStudio.Web.Api;

/// <summary>
/// Requests the framework refuses before an endpoint runs (a query value of the wrong type, a body of the wrong media
/// type) answer with a ProblemDetails that names the field and says what it takes, in words rather than .NET types.
/// </summary>
public static partial class BadRequestProblems
{
    /// <summary>The status of an exception the exception handler sees: a refused request keeps its own (400, 415, 413).</summary>
    public static int StatusCodeOf(Exception ex) => ex is BadHttpRequestException b ? b.StatusCode : StatusCodes.Status500InternalServerError;

    public static void Describe(ProblemDetailsContext context)
    {
        if (context.Exception is not BadHttpRequestException ex)
            return;
        var problem = context.ProblemDetails;
        problem.Status = ex.StatusCode;
        if (BindFailure().Match(ex.Message) is { Success: true } m)
        {
            var field = m.Groups["name"].Value;
            var message = $"'{m.Groups["value"].Value}' is not {Words(m.Groups["type"].Value)}";
            problem.Title = "The request is invalid";
            problem.Detail = $"{field}: {message}";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        }
        else if (MissingValue().Match(ex.Message) is { Success: true } missing)
        {
            var field = missing.Groups["name"].Value;
            problem.Title = "The request is invalid";
            problem.Detail = $"{field}: is required";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = ["is required"] };
        }
        else if (ex.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            problem.Title = "Unsupported content type";
            problem.Detail = $"Content-Type '{context.HttpContext.Request.ContentType}' is not accepted here";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { ["Content-Type"] = ["is not accepted here"] };
        }
        else
        {
            problem.Title = "The request is invalid";
            problem.Detail = Regex.Replace(ex.Message, @"System(\.\w+)+", "a value");
        }
    }

    private static string Words(string type) => type.Replace("Nullable<", "").TrimEnd('>', '?') switch
    {
        "long" or "int" or "Int64" or "Int32" => "a whole number",
        "double" or "float" or "Double" => "a number",
        "bool" or "Boolean" => "true or false",
        _ => "a valid value",
    };

    [GeneratedRegex("Failed to bind parameter \"(?<type>\\S+) (?<name>\\w+)\" from \"(?<value>.*)\"")]
    private static partial Regex BindFailure();

    [GeneratedRegex("Required parameter \"(?<type>\\S+) (?<name>\\w+)\" was not provided")]
    private static partial Regex MissingValue();
}
