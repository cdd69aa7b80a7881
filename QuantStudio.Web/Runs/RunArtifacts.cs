namespace QuantStudio.Web.Runs;

/// <summary>
/// The files of one run's folder, and the only way a download finds one: a name must stay inside that
/// folder after normalization (no "..", no absolute path, no drive or device names), and no part of
/// the path may be a symbolic link, so a link cannot lead out of the folder either.
/// </summary>
public static class RunArtifacts
{
    /// <summary>The file the name refers to, or null when it is outside the folder, a link, or absent.</summary>
    public static string? Resolve(string runDirectory, string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('\0') || name.Contains('\\') || name.Contains(':'))
            return null;
        if (Path.IsPathRooted(name) || name.StartsWith('/'))
            return null;
        var parts = name.Split('/');
        if (parts.Any(p => p is "" or "." or ".."))
            return null;

        var root = Path.GetFullPath(runDirectory);
        if (!Directory.Exists(root) || IsLink(root))
            return null;
        var full = Path.GetFullPath(Path.Combine(root, name));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return null;

        // Walk every component below the run folder: none may be a link.
        var current = root;
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            if (IsLink(current))
                return null;
        }
        return File.Exists(full) ? full : null;
    }

    /// <summary>Regular files in the folder (recursively, not following links), as names relative to it.</summary>
    public static IReadOnlyList<(string Name, long Bytes)> List(string runDirectory)
    {
        var root = Path.GetFullPath(runDirectory);
        if (!Directory.Exists(root))
            return [];
        var result = new List<(string, long)>();
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is not null)
                    continue;
                if (entry is DirectoryInfo sub)
                    pending.Push(sub.FullName);
                else if (entry is FileInfo file)
                    result.Add((Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/'), file.Length));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return result;
    }

    private static bool IsLink(string path)
    {
        var info = new FileInfo(path);
        if (info.Exists || Directory.Exists(path))
            return info.LinkTarget is not null || new DirectoryInfo(path).LinkTarget is not null;
        return false;
    }
}
