using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Web.Distributed;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Api;

/// <summary>The result of exporting a run's model: the new artifact and its size next to the checkpoint's.</summary>
public sealed record OnnxExportDto(
    ArtifactDto Artifact,
    string Weights,
    [property: JsonPropertyName("onnx_bytes")] long OnnxBytes,
    [property: JsonPropertyName("qsc_bytes")] long QscBytes,
    [property: JsonPropertyName("packed_bytes")] long PackedBytes);

/// <summary>
/// POST /api/runs/{id}/export/onnx?weights=float|lowbit: exports the run's model.qsc to ONNX as
/// model-float.onnx or model-lowbit.onnx in the run's folder, from where it is listed and downloaded
/// like every other artifact (the same as `quantstudio export --format onnx`). In distributed mode the model comes from, and
/// the export goes to, the shared artifact store.
/// </summary>
public static class OnnxExportEndpoints
{
    private static readonly Dictionary<string, OnnxWeightFormat> Formats = new(StringComparer.Ordinal)
    {
        ["float"] = OnnxWeightFormat.Float,
        ["lowbit"] = OnnxWeightFormat.LowBit,
    };

    public static IEndpointRouteBuilder MapOnnxExportApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/runs/{id:long}/export/onnx", ExportAsync)
            .WithTags("Runs")
            .WithSummary("Export the run's model.qsc to ONNX (weights=float or lowbit); the file becomes an artifact of the run")
            .Produces<OnnxExportDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(404)
            .ProducesProblem(409)
            .ProducesProblem(422)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> ExportAsync(long id, string? weights, IRunStore store, IOptions<QuantStudioOptions> options,
        RunDownloads downloads, CancellationToken ct)
    {
        var name = weights ?? "float";
        if (!Formats.TryGetValue(name, out var format))
            return Problems.BadRequest("weights", $"'{name}' is not a weight format; allowed: float, lowbit");
        if (await store.GetRunAsync(id, ct) is null)
            return Problems.RunNotFound(id);
        var fileName = $"model-{name}.onnx";
        // Distributed, the run's files are in the shared store (whichever worker ran it): export from a local copy and store the result there.
        var shared = downloads.Shared;
        var folder = shared is null ? options.Value.RunDirectory(id) : Path.Combine(Path.GetTempPath(), $"quantstudio-export-{Guid.NewGuid():N}");
        try
        {
            var qsc = Path.Combine(folder, "model.qsc");
            var present = shared is null ? File.Exists(qsc) : await ArtifactFiles.DownloadAsync(shared, id, "model.qsc", qsc, ct);
            if (!present)
                return Problems.Conflict("The run has no model yet", $"run {id} has no model.qsc; it is written when the run finishes");
            var target = Path.Combine(folder, fileName);
            OnnxExport export;
            try
            {
                export = await Task.Run(() => OnnxExporter.ExportToFile(qsc, target, format), ct);
            }
            catch (CompressedCheckpointFormatException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The run's model cannot be exported",
                    detail: $"model.qsc of run {id} is not a valid compressed checkpoint: {e.Message}");
            }
            catch (NotSupportedException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The run's model cannot be exported",
                    detail: $"model.qsc of run {id}: {e.Message}");
            }
            if (shared is not null)
                await ArtifactFiles.UploadAsync(shared, id, fileName, target, ct);
            var artifact = (await downloads.ListAsync(id, ct)).Single(a => a.Name == fileName);
            return Results.Created(artifact.Url, new OnnxExportDto(artifact, name, export.FileBytes, export.QscFileBytes, export.RunPackedBytes));
        }
        finally
        {
            if (shared is not null && Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
