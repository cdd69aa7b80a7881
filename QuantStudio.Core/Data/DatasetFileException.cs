namespace QuantStudio.Core.Data;

/// <summary>
/// A dataset file is missing, unreadable or corrupt. The message names the file, the folder it is
/// expected in, and how to get it (by hand or with <c>dataset.download</c>).
/// </summary>
public class DatasetFileException(string message, string? path = null, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>The file (or folder) at fault, when there is one.</summary>
    public string? Path { get; } = path;

    /// <summary>When files are missing: their names (the folder is <see cref="Path"/>); empty otherwise.</summary>
    public IReadOnlyList<string> MissingFiles { get; init; } = [];

    /// <summary>When files are missing: the layout the dataset expects in its folder.</summary>
    public string? ExpectedLayout { get; init; }
}

/// <summary>Every mirror of a file failed to download, or delivered bytes with the wrong SHA-256.</summary>
public sealed class DatasetDownloadException(string message, string path, Exception? inner = null)
    : DatasetFileException(message, path, inner);

