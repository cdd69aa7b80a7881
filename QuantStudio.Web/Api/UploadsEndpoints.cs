using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;
using QuantStudio.Web.Runs;
using QuantStudio.Web.Uploads;

namespace QuantStudio.Web.Api;

/// <summary>A stored upload, by name: the name is what teacher.checkpoint takes. Tensors is null in a listing (the header is not read).</summary>
public sealed record UploadDto(string Name, long Bytes, int? Tensors);

/// <summary>/api/uploads/teacher: a teacher's weights as safetensors, size-limited and validated before it is kept; listed and deleted by name.</summary>
public static class UploadsEndpoints
{
    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        var uploads = app.MapGroup("/api/uploads").WithTags("Uploads");
        uploads.MapPost("/teacher", UploadTeacherAsync)
            .Accepts<IFormFile>("application/octet-stream", "multipart/form-data")
            .Produces<UploadDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Upload a teacher checkpoint (safetensors); the answer's name goes into teacher.checkpoint")
            .DisableAntiforgery();
        uploads.MapGet("/teacher", List).WithSummary("The stored teacher uploads");
        uploads.MapDelete("/teacher/{name}", DeleteAsync)
            .WithSummary("Delete a teacher upload that no queued or running run uses").ProducesProblem(404).ProducesProblem(409);
        return app;
    }

    private static UploadDto[] List(IOptions<QuantStudioOptions> options)
    {
        var dir = new DirectoryInfo(options.Value.UploadsDirectory);
        if (!dir.Exists)
            return [];
        return dir.EnumerateFiles("teacher-*.safetensors")
            .Where(f => RunInputs.UploadName().IsMatch(f.Name))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new UploadDto(f.Name, f.Length, null))
            .ToArray();
    }

    private static async Task<IResult> DeleteAsync(string name, IOptions<QuantStudioOptions> options, IRunStore store, CancellationToken ct)
    {
        var path = Path.Combine(options.Value.UploadsDirectory, name);
        if (!RunInputs.UploadName().IsMatch(name) || !File.Exists(path))
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Upload not found", detail: $"there is no upload named '{name}'",
                type: "https://quantstudio.local/problems/upload-not-found");
        var users = (await store.ListRunsAsync(ct))
            .Where(r => r.Status.IsActive() && r.TryReadSpec() is { } spec && RunInputs.UsesUpload(spec, name))
            .Select(r => r.Id).Order().ToList();
        if (users.Count > 0)
            return Problems.Conflict("The upload is in use", $"run(s) {string.Join(", ", users)} are queued or running with teacher '{name}'; " +
                                                            "delete the upload when they have ended");
        File.Delete(path);
        return Results.NoContent();
    }

    private static async Task<IResult> UploadTeacherAsync(HttpContext http, IOptions<QuantStudioOptions> options, TeacherUploadStore store, CancellationToken ct)
    {
        var limit = options.Value.MaxUploadBytes;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit + 64 * 1024; // room for multipart framing
        if (http.Request.ContentLength > limit + 64 * 1024)
            return TooLarge(limit);

        Stream source;
        string originalName = "teacher.safetensors";
        if (http.Request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await http.Request.ReadFormAsync(ct);
            }
            catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
            {
                // A multipart body over the form limit without a Content-Length: the reader only finds out while reading.
                return TooLarge(limit);
            }
            catch (InvalidDataException)
            {
                return Problems.BadRequest("file", "the multipart body is malformed; send the file as the form field 'file'");
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(limit);
            }
            var file = form.Files.GetFile("file") ?? form.Files.FirstOrDefault();
            if (file is null)
                return Problems.BadRequest("file", "no file in the form; send it as the field 'file'");
            if (file.Length > limit)
                return TooLarge(limit);
            originalName = Path.GetFileName(file.FileName);
            source = file.OpenReadStream();
        }
        else
        {
            source = http.Request.Body;
        }

        try
        {
            await using (source)
            {
                var stored = await store.StoreAsync(source, originalName, ct);
                return Results.Created($"/api/uploads/teacher/{stored.Name}", stored);
            }
        }
        catch (UploadRejectedException ex) when (ex.TooLarge)
        {
            return TooLarge(limit);
        }
        catch (UploadRejectedException ex)
        {
            return Problems.BadRequest("file", ex.Message, "The upload is not a valid safetensors file");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }
    }

    private static IResult TooLarge(long limit) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The upload is too large",
            detail: $"uploads are limited to {limit} bytes (QuantStudio:MaxUploadBytes)");
}
