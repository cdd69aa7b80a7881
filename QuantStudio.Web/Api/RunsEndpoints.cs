using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Options;
using QuantStudio.Web.Distributed;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Api;

/// <summary>/api/runs: create, list, inspect, follow by polling, cancel, resume, delete, download.</summary>
public static class RunsEndpoints
{
    /// <summary>A spec is a small document; anything bigger is refused before it is parsed.</summary>
    public const int MaxSpecBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/api/runs").WithTags("Runs");

        runs.MapPost("/", CreateAsync)
            .Accepts<JsonElement>("application/json")
            .Produces<RunDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .WithSummary("Queue a run from an experiment spec (the same JSON as quantstudio train --spec)")
            .DisableAntiforgery();
        runs.MapGet("/", ListAsync).WithSummary("All runs, newest first");
        runs.MapGet("/{id:long}", GetAsync).WithSummary("One run with its spec and artifacts").ProducesProblem(404);
        runs.MapGet("/{id:long}/events", EventsAsync).WithSummary("Stored events after a seq, in order").ProducesProblem(404);
        runs.MapPost("/{id:long}/cancel", CancelAsync).WithSummary("Stop a queued or running run").ProducesProblem(404).ProducesProblem(409).DisableAntiforgery();
        runs.MapPost("/{id:long}/resume", ResumeAsync).WithSummary("Queue an interrupted, cancelled or failed run again from its last checkpoint")
            .ProducesProblem(404).ProducesProblem(409).DisableAntiforgery();
        runs.MapDelete("/{id:long}", DeleteAsync).WithSummary("Remove a run, its events and its folder").ProducesProblem(404).ProducesProblem(409);
        runs.MapGet("/{id:long}/artifacts", ArtifactsAsync).WithSummary("Files in the run's folder");
        runs.MapGet("/{id:long}/artifacts/{**name}", DownloadAsync).WithSummary("Download one file of the run's folder").ProducesProblem(404);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, SpecChecks checks, RunService service, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            return Problems.UnsupportedMediaType(request.ContentType);
        string json;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            var buffer = new char[MaxSpecBytes + 1];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(read), ct)) > 0)
                read += n;
            if (read > MaxSpecBytes)
                return Problems.BadRequest("spec", $"the spec is larger than {MaxSpecBytes} bytes");
            json = new string(buffer, 0, read);
        }
        if (string.IsNullOrWhiteSpace(json))
            return Problems.InvalidSpec([new SpecError("spec", "the request body is empty; send the experiment spec as JSON")]);
        var (spec, errors) = await checks.ParseAsync(json, ct);
        if (spec is null)
            return Problems.InvalidSpec(errors);
        var run = await service.CreateAsync(spec, ct);
        return Results.Created($"/api/runs/{run.Id}", RunDto.From(run));
    }

    private static async Task<Ok<RunDto[]>> ListAsync(IRunStore store, string? status, string? method, string? dataset, CancellationToken ct)
    {
        var all = await store.ListRunsAsync(ct);
        var filtered = all.Where(r =>
            (status is null || r.Status.ToName() == status) &&
            (method is null || r.Method == method) &&
            (dataset is null || r.Dataset == dataset));
        return TypedResults.Ok(filtered.Select(RunDto.From).ToArray());
    }

    private static async Task<IResult> GetAsync(long id, IRunStore store, RunDownloads downloads, CancellationToken ct)
    {
        var run = await store.GetRunAsync(id, ct);
        if (run is null)
            return Problems.RunNotFound(id);
        using var spec = JsonDocument.Parse(run.SpecJson);
        var last = await store.GetLastSeqAsync(id, ct);
        return Results.Ok(new RunDetailDto(RunDto.From(run), spec.RootElement.Clone(), last, await downloads.ListAsync(id, ct)));
    }

    private static async Task<IResult> EventsAsync(long id, IRunStore store, long? afterSeq, int? limit, string? types, CancellationToken ct)
    {
        if (await store.GetRunAsync(id, ct) is null)
            return Problems.RunNotFound(id);
        if (limit is < 1 or > 10_000)
            return Problems.BadRequest("limit", "must be between 1 and 10000");
        var typeList = string.IsNullOrWhiteSpace(types) ? null : types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var events = await store.ReadEventsAsync(id, Math.Max(0, afterSeq ?? 0), limit ?? 5000, typeList, ct);
        return Results.Ok(events.Select(e => e.Payload).ToArray());
    }

    private static async Task<IResult> CancelAsync(long id, RunService service, IRunStore store, CancellationToken ct) =>
        await service.CancelAsync(id, ct) switch
        {
            RunCommandResult.NotFound => Problems.RunNotFound(id),
            RunCommandResult.Conflict => Problems.Conflict("The run is not running", $"run {id} is neither queued nor running"),
            _ => Results.Accepted($"/api/runs/{id}", RunDto.From((await store.GetRunAsync(id, ct))!)),
        };

    private static async Task<IResult> ResumeAsync(long id, RunService service, IRunStore store, CancellationToken ct) =>
        await service.ResumeAsync(id, ct) switch
        {
            RunCommandResult.NotFound => Problems.RunNotFound(id),
            RunCommandResult.Conflict => Problems.Conflict("The run cannot be resumed",
                $"run {id} is not interrupted, cancelled or failed; only those can be resumed"),
            _ => Results.Accepted($"/api/runs/{id}", RunDto.From((await store.GetRunAsync(id, ct))!)),
        };

    private static async Task<IResult> DeleteAsync(long id, RunService service, CancellationToken ct) =>
        await service.DeleteAsync(id, ct) switch
        {
            RunCommandResult.NotFound => Problems.RunNotFound(id),
            RunCommandResult.Conflict => Problems.Conflict("The run is still active", $"run {id} is queued or running; cancel it first"),
            _ => Results.NoContent(),
        };

    private static async Task<IResult> ArtifactsAsync(long id, IRunStore store, RunDownloads downloads, CancellationToken ct)
    {
        if (await store.GetRunAsync(id, ct) is null)
            return Problems.RunNotFound(id);
        return Results.Ok(await downloads.ListAsync(id, ct));
    }

    private static async Task<IResult> DownloadAsync(long id, string name, IRunStore store, RunDownloads downloads, CancellationToken ct)
    {
        if (await store.GetRunAsync(id, ct) is null)
            return Problems.RunNotFound(id);
        return await downloads.DownloadAsync(id, name, ct)
            ?? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Artifact not found",
                detail: $"run {id} has no file named '{name}'; only files inside the run's own folder can be downloaded");
    }

    /// <summary>The files of the run's folder on this node (embedded mode, and exports written here).</summary>
    internal static IReadOnlyList<ArtifactDto> ListArtifacts(long id, QuantStudioOptions options) =>
        RunArtifacts.List(options.RunDirectory(id))
            .Select(a => new ArtifactDto(a.Name, a.Bytes, $"/api/runs/{id}/artifacts/{string.Join('/', a.Name.Split('/').Select(Uri.EscapeDataString))}"))
            .ToArray();
}
