using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;
using QuantStudio.Web.Uploads;

namespace QuantStudio.Web.Api;

public sealed record UploadDto(string Name, string Checkpoint, long Bytes, int Tensors);

/// <summary>/api/uploads/teacher: a teacher's weights as safetensors, size-limited and validated before it is kept.</summary>
public static class UploadsEndpoints
{
    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/uploads").WithTags("Uploads")
            .MapPost("/teacher", UploadTeacherAsync)
            .Accepts<IFormFile>("application/octet-stream", "multipart/form-data")
            .Produces<UploadDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Upload a teacher checkpoint (safetensors); the answer's checkpoint goes into teacher.checkpoint")
            .DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> UploadTeacherAsync(HttpContext http, IOptions<QuantStudioOptions> options, ILoggerFactory logs, CancellationToken ct)
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
            var form = await http.Request.ReadFormAsync(ct);
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

        var dir = options.Value.UploadsDirectory;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".upload-{Guid.NewGuid():N}.part");
        try
        {
            await using (source)
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                var buffer = new byte[81920];
                long total = 0;
                int n;
                try
                {
                    while ((n = await source.ReadAsync(buffer, ct)) > 0)
                    {
                        total += n;
                        if (total > limit)
                            return TooLarge(limit);
                        await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    }
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return TooLarge(limit);
                }
                await file.FlushAsync(ct);

                var check = SafetensorsValidator.Validate(file);
                if (!check.Ok)
                    return Problems.BadRequest("file", check.Error!, "The upload is not a valid safetensors file");
                file.Position = 0;
                var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct))[..16];
                var name = $"teacher-{hash}.safetensors";
                var final = Path.Combine(dir, name);
                file.Close();
                File.Move(temp, final, overwrite: true);
                logs.CreateLogger("QuantStudio.Web.Uploads").LogInformation("Stored teacher upload {Original} as {Name} ({Bytes} bytes, {Tensors} tensors)",
                    originalName, name, total, check.TensorCount);
                return Results.Created($"/api/uploads/teacher/{name}", new UploadDto(name, final, total, check.TensorCount));
            }
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    private static IResult TooLarge(long limit) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The upload is too large",
            detail: $"uploads are limited to {limit} bytes (QuantStudio:MaxUploadBytes)");
}
