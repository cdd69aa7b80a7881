using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Api;

/// <summary>RFC 7807 problem responses used across the API.</summary>
public static class Problems
{
    /// <summary>400 with an <c>errors</c> dictionary: field → messages.</summary>
    public static IResult InvalidSpec(IReadOnlyList<SpecError> errors) =>
        Results.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            title: "The experiment spec is invalid",
            detail: string.Join("; ", errors.Select(e => e.ToString())),
            type: "https://quantstudio.local/problems/invalid-spec");

    public static IResult RunNotFound(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Run not found", detail: $"run {id} does not exist",
            type: "https://quantstudio.local/problems/run-not-found");

    public static IResult Conflict(string title, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail,
            type: "https://quantstudio.local/problems/conflict");

    public static IResult BadRequest(string field, string message, string title = "The request is invalid") =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: title, detail: $"{field}: {message}");

    /// <summary>415 naming the Content-Type field.</summary>
    public static IResult UnsupportedMediaType(string? given) =>
        Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type",
            detail: $"Content-Type: {(string.IsNullOrEmpty(given) ? "(none)" : given)} is not accepted here; the API takes application/json",
            type: "https://quantstudio.local/problems/unsupported-media-type",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["Content-Type"] = ["must be application/json"] } });
}
