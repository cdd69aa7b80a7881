using System.Security.Cryptography;

namespace QuantStudio.Core.Data;

/// <summary>
/// Downloads dataset files with progress and SHA-256 verification. Bytes go to a temporary file next
/// to the destination, which is renamed into place only once its hash matches: an interrupted or
/// corrupt download never leaves a file that looks complete.
/// </summary>
public sealed class DatasetDownloader(HttpClient http)
{
    /// <summary>A downloader over a fresh <see cref="HttpClient"/> (generous timeout: the CIFAR archives are 160 MB).</summary>
    public DatasetDownloader() : this(new HttpClient { Timeout = TimeSpan.FromMinutes(30) })
    {
    }

    /// <summary>Progress is reported at most this often (in bytes), plus once at the end.</summary>
    public long ProgressStepBytes { get; init; } = 256 * 1024;

    /// <summary>Suffix of the temporary file a download is written to before its hash is checked.</summary>
    public const string PartialSuffix = ".partial";

    public async Task DownloadAsync(RemoteFile file, string destinationPath, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(destinationPath))!;
        Directory.CreateDirectory(folder);
        var partial = destinationPath + PartialSuffix;
        var failures = new List<string>();
        foreach (var url in file.Urls)
        {
            try
            {
                var actual = await FetchAsync(file, url, partial, progress, cancellationToken).ConfigureAwait(false);
                if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{url}: SHA-256 mismatch (expected {file.Sha256}, got {actual})");
                    continue;
                }
                File.Move(partial, destinationPath, overwrite: true);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException
                                       || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failures.Add($"{url}: {ex.Message}");
            }
            finally
            {
                TryDelete(partial);
            }
        }
        throw new DatasetDownloadException(
            $"could not download {file.FileName}: {string.Join("; ", failures)}. " +
            $"Download it by hand and put it at '{Path.GetFullPath(destinationPath)}' (SHA-256 {file.Sha256}).", destinationPath);
    }

    private async Task<string> FetchAsync(RemoteFile file, string url, string partial, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        var total = response.Content.Headers.ContentLength ?? file.Size;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        var nextReport = 0L;
        progress?.Report(new DownloadProgress(file.FileName, url, 0, total, false));
        await using (var source = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false))
        await using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await target.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                received += n;
                if (received >= nextReport)
                {
                    progress?.Report(new DownloadProgress(file.FileName, url, received, total, false));
                    nextReport = received + ProgressStepBytes;
                }
            }
            await target.FlushAsync(ct).ConfigureAwait(false);
        }
        if (response.Content.Headers.ContentLength is { } expected && received != expected)
            throw new IOException($"the connection closed after {received} of {expected} bytes");
        progress?.Report(new DownloadProgress(file.FileName, url, received, total, true));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
                File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
