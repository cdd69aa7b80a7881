namespace QuantStudio.Core.Data;

/// <summary>A file a dataset can download: its name on disk, mirrors tried in order, and its pinned SHA-256.</summary>
public sealed record RemoteFile(string FileName, IReadOnlyList<string> Urls, string Sha256, long? Size = null);

/// <summary>Download progress of one file; <see cref="TotalBytes"/> is null when the server does not say.</summary>
public readonly record struct DownloadProgress(string FileName, string Url, long BytesReceived, long? TotalBytes, bool Completed)
{
    public double? Fraction => TotalBytes is > 0 ? Math.Min(1.0, (double)BytesReceived / TotalBytes.Value) : null;
}
