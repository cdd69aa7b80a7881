using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;
using QuantStudio.Web.Sweeps;

namespace QuantStudio.Web.Api;

/// <summary>/api/sweeps: create a sweep (a spec and its axes, expanded into queued runs), list sweeps, follow one.</summary>
public static class SweepsEndpoints
{
    public static IEndpointRouteBuilder MapSweepsApi(this IEndpointRouteBuilder app)
    {
        var sweeps = app.MapGroup("/api/sweeps").WithTags("Sweeps");

        sweeps.MapPost("/", CreateAsync)
            .Accepts<JsonElement>("application/json")
            .Produces<SweepDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .WithSummary("Queue a sweep: {\"name\", \"spec\", \"axes\": [{\"path\": \"quantization.bits\", \"values\": [2, 4, 8]}]}; every run is checked first")
            .DisableAntiforgery();
        sweeps.MapGet("/", ListAsync).WithSummary("All sweeps, newest first, with their runs' progress");
        sweeps.MapGet("/fields", Fields).WithSummary("The spec fields a sweep can vary and the values each takes");
        sweeps.MapGet("/{id:long}", GetAsync).WithSummary("One sweep: its runs, their axis values and figures, and its Pareto frontier")
            .Produces<SweepDto>().ProducesProblem(404);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, SweepService service, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            return Problems.UnsupportedMediaType(request.ContentType);
        string json;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            var buffer = new char[RunsEndpoints.MaxSpecBytes + 1];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(read), ct)) > 0)
                read += n;
            if (read > RunsEndpoints.MaxSpecBytes)
                return Problems.BadRequest("body", $"the sweep is larger than {RunsEndpoints.MaxSpecBytes} bytes");
            json = new string(buffer, 0, read);
        }
        if (string.IsNullOrWhiteSpace(json))
            return InvalidSweep([new SpecError("body", "the request body is empty; send {\"spec\": {…}, \"axes\": [{\"path\": …, \"values\": […]}]}")]);
        var (sweepRequest, errors) = SweepRequestJson.Parse(json);
        if (sweepRequest is null)
            return InvalidSweep(errors);
        var (sweep, problems) = await service.CreateAsync(sweepRequest, ct);
        if (sweep is null)
            return InvalidSweep(problems);
        return Results.Created($"/api/sweeps/{sweep.Sweep.Id}", SweepDto.From(sweep));
    }

    private static async Task<Ok<SweepSummaryDto[]>> ListAsync(SweepService service, CancellationToken ct) =>
        TypedResults.Ok((await service.ListAsync(ct)).Select(SweepSummaryDto.From).ToArray());

    private static Ok<SweepFieldDto[]> Fields() =>
        TypedResults.Ok(SweepFields.All.Select(f => new SweepFieldDto(f.Path, f.Takes)).ToArray());

    private static async Task<IResult> GetAsync(long id, SweepService service, CancellationToken ct) =>
        await service.GetAsync(id, ct) is { } sweep
            ? Results.Ok(SweepDto.From(sweep))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Sweep not found", detail: $"sweep {id} does not exist",
                type: "https://quantstudio.local/problems/sweep-not-found");

    /// <summary>400 with an <c>errors</c> dictionary: member of the sweep (<c>axes[0].values[1]</c>, <c>spec.optimizer.lr</c>) → messages.</summary>
    private static IResult InvalidSweep(IReadOnlyList<SpecError> errors) =>
        Results.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            title: "The sweep is invalid",
            detail: string.Join("; ", errors.Select(e => e.ToString())),
            type: "https://quantstudio.local/problems/invalid-sweep");
}
