using System.Globalization;
using System.Text.RegularExpressions;
using QuantStudio.Core.Runs;
using QuantStudio.Core.Training;

namespace QuantStudio.Core.Distributed;

/// <summary>
/// Teacher files a spec names, as workers find them in the artifact store: an uploaded teacher
/// (<c>teacher-&lt;16 hex digits&gt;.safetensors</c>) under the uploads' name space, run id <see cref="UploadsRunId"/>, where
/// the web node puts it when it queues the run; a finished run's teacher (<c>run:&lt;id&gt;</c>) among that run's files.
/// </summary>
public static partial class SharedTeachers
{
    /// <summary>The artifact store's name space for uploads: no run has id 0.</summary>
    public const long UploadsRunId = 0;

    public const string RunTeacherPrefix = "run:";

    [GeneratedRegex("^teacher-[0-9a-f]{16}\\.safetensors$")]
    public static partial Regex UploadName();

    /// <summary>Where the file a teacher reference names is stored: (run id, file name); null when it names none.</summary>
    public static (long RunId, string Name)? Locate(string reference)
    {
        reference = reference.Trim();
        if (UploadName().IsMatch(reference))
            return (UploadsRunId, reference);
        if (reference.StartsWith(RunTeacherPrefix, StringComparison.Ordinal) &&
            long.TryParse(reference.AsSpan(RunTeacherPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var runId) && runId > 0)
            return (runId, ExperimentRunner.TeacherFileName);
        return null;
    }
}
