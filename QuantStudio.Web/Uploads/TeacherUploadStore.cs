using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Api;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Uploads;

/// <summary>Why an upload was refused; <see cref="TooLarge"/> when it passed <see cref="QuantStudioOptions.MaxUploadBytes"/>.</summary>
public sealed class UploadRejectedException(string message, bool tooLarge = false) : Exception(message)
{
    public bool TooLarge { get; } = tooLarge;
}

/// <summary>
/// Stores a teacher checkpoint for the API and the form alike: written to a temporary file while it is counted against
/// <see cref="QuantStudioOptions.MaxUploadBytes"/>, its safetensors header checked, then named by its content
/// (<c>teacher-&lt;16 hex digits&gt;.safetensors</c>) in the uploads folder.
/// </summary>
public sealed class TeacherUploadStore(IOptions<QuantStudioOptions> options, ILogger<TeacherUploadStore> log)
{
    public long Limit => options.Value.MaxUploadBytes;

    public async Task<UploadDto> StoreAsync(Stream source, string originalName, CancellationToken ct = default)
    {
        var dir = options.Value.UploadsDirectory;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".upload-{Guid.NewGuid():N}.part");
        try
        {
            await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.Asynchronous);
            var buffer = new byte[81920];
            long total = 0;
            int n;
            while ((n = await source.ReadAsync(buffer, ct)) > 0)
            {
                total += n;
                if (total > Limit)
                    throw TooLarge();
                await file.WriteAsync(buffer.AsMemory(0, n), ct);
            }
            await file.FlushAsync(ct);

            var check = SafetensorsValidator.Validate(file);
            if (!check.Ok)
                throw new UploadRejectedException(check.Error!);
            file.Position = 0;
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct))[..16];
            var name = $"teacher-{hash}.safetensors";
            file.Close();
            File.Move(temp, Path.Combine(dir, name), overwrite: true);
            log.LogInformation("Stored teacher upload {Original} as {Name} ({Bytes} bytes, {Tensors} tensors)", originalName, name, total, check.TensorCount);
            return new UploadDto(name, total, check.TensorCount);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    public UploadRejectedException TooLarge() => new($"uploads are limited to {Limit} bytes (QuantStudio:MaxUploadBytes)", tooLarge: true);
}
