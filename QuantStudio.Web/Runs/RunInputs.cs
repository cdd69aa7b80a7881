using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;
using QuantStudio.Web.Estimation;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Runs;

/// <summary>
/// The files a run started through the web reads are named, never given as paths (the CLI keeps paths): a teacher is
/// an upload of this server (the name the upload returned, <c>teacher-….safetensors</c>) or the teacher a finished run
/// trained (<c>run:&lt;id&gt;</c>); a dataset's root is the name of a folder (or, for <c>text</c>, a file) under the data
/// folder's <c>datasets/</c>. This checks those names and turns them into the absolute paths the runner reads. Its
/// messages name the field and the name given, never a server path or a file's content.
/// </summary>
public sealed partial class RunInputs(IOptions<QuantStudioOptions> options, IRunStore store)
{
    public const string RunTeacherPrefix = "run:";

    /// <summary>The name of a stored upload: what POST /api/uploads/teacher answers.</summary>
    [GeneratedRegex("^teacher-[0-9a-f]{16}\\.safetensors$")]
    public static partial Regex UploadName();

    /// <summary>A dataset root: one folder or file name, no separators, not starting with a dot.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex DatasetRootName();

    public static string RunTeacher(long runId) => RunTeacherPrefix + runId.ToString(CultureInfo.InvariantCulture);

    public string DatasetsDirectory => Path.Combine(options.Value.ResolvedDataDirectory, "datasets");

    /// <summary>What is wrong with the spec's teacher and dataset names; empty when the runner will find its files.</summary>
    public async Task<IReadOnlyList<SpecError>> CheckAsync(ExperimentSpec spec, CancellationToken ct = default)
    {
        var errors = new List<SpecError>();
        if (DatasetError(spec.Dataset) is { } d)
            errors.Add(d);
        if (TeacherReference(spec) is { } reference)
        {
            var (path, error) = await TeacherPathAsync(reference, ct);
            if ((error ?? TeacherFitError(spec, reference, path!)) is { } t)
                errors.Add(t);
        }
        return errors;
    }

    /// <summary>
    /// A teacher file for another architecture, width or input, named before the run is queued. Image datasets only:
    /// a text model's vocabulary is known once the corpus is read, and the runner checks it then.
    /// </summary>
    private static SpecError? TeacherFitError(ExperimentSpec spec, string reference, string path)
    {
        var teacher = spec.Teacher!;
        if (!ModelZoo.IsKnown(teacher.Arch) || ModelZoo.IsLanguageModel(teacher.Arch) ||
            ModelZooParameterCounts.DatasetShape(spec.Dataset.Name) is not { IsText: false } input)
            return null;
        try
        {
            using var file = File.OpenRead(path);
            return WeightsFileFit.Problem(file, teacher.Arch, teacher.Width, 1.0, input) is { } problem
                ? new SpecError("teacher.checkpoint", $"'{reference}': {problem}")
                : null;
        }
        catch (Exception e) when (e is SafetensorsFormatException or IOException or ArgumentException)
        {
            return new SpecError("teacher.checkpoint", $"'{reference}' cannot be read as safetensors: {e.Message}");
        }
    }

    /// <summary>The spec as the runner gets it: the teacher and dataset root as absolute paths; or why it cannot run.</summary>
    public async Task<(ExperimentSpec? Spec, SpecError? Error)> ResolveAsync(ExperimentSpec spec, CancellationToken ct = default)
    {
        if (DatasetError(spec.Dataset, requireFiles: false) is { } d)
            return (null, d);
        var resolved = spec;
        if (!string.IsNullOrWhiteSpace(spec.Dataset.Root))
            resolved = resolved with { Dataset = spec.Dataset with { Root = Path.Combine(DatasetsDirectory, spec.Dataset.Root.Trim()) } };
        if (TeacherReference(spec) is { } reference)
        {
            var (path, error) = await TeacherPathAsync(reference, ct);
            if (error is not null)
                return (null, error);
            resolved = resolved with { Teacher = spec.Teacher! with { Checkpoint = path } };
        }
        return (resolved, null);
    }

    /// <summary>Whether the spec names the upload <paramref name="uploadName"/> as its teacher.</summary>
    public static bool UsesUpload(ExperimentSpec spec, string uploadName) => TeacherReference(spec) == uploadName;

    private static string? TeacherReference(ExperimentSpec spec) =>
        Methods.UsesTeacher(spec.Method) && spec.Teacher?.Checkpoint is { } c && !string.IsNullOrWhiteSpace(c) ? c.Trim() : null;

    private async Task<(string? Path, SpecError? Error)> TeacherPathAsync(string reference, CancellationToken ct)
    {
        static SpecError Error(string message) => new("teacher.checkpoint", message);
        if (UploadName().IsMatch(reference))
        {
            var path = Path.Combine(options.Value.UploadsDirectory, reference);
            return File.Exists(path)
                ? (path, null)
                : (null, Error($"there is no upload named '{reference}'; upload the teacher again (POST /api/uploads/teacher)"));
        }
        if (reference.StartsWith(RunTeacherPrefix, StringComparison.Ordinal) &&
            long.TryParse(reference.AsSpan(RunTeacherPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var runId))
        {
            var run = await store.GetRunAsync(runId, ct);
            var path = Path.Combine(options.Value.RunDirectory(runId), ExperimentRunner.TeacherFileName);
            if (run is null)
                return (null, Error($"run {runId} does not exist"));
            if (run.Status != RunStatus.Finished || !File.Exists(path))
                return (null, Error($"run {runId} has no teacher to give: only a finished run that trained its teacher has one"));
            return (path, null);
        }
        return (null, Error($"'{Shorten(reference)}' names no teacher; give the name an upload returned (teacher-<16 hex digits>.safetensors) " +
                            "or a finished run's teacher (run:<id>). Paths on the server are not accepted"));
    }

    private SpecError? DatasetError(DatasetSpec d, bool requireFiles = true)
    {
        if (!DatasetRegistry.Contains(d.Name))
            return null; // the validator names the allowed datasets
        var source = DatasetRegistry.Get(d.Name);
        var root = d.Root?.Trim();
        if (source.IsGenerated)
            return null;
        if (!string.IsNullOrEmpty(root) && (!DatasetRootName().IsMatch(root) || root.Contains("..", StringComparison.Ordinal)))
            return new SpecError("dataset.root", $"'{Shorten(root)}' is not a dataset name; give the name of a folder" +
                (source.Kind == DatasetKind.CharText ? " or a text file" : "") +
                " in the data folder's datasets/ (letters, digits, '.', '-', '_'), or leave it empty for datasets/" + d.Name +
                ". Paths on the server are not accepted");
        if (!requireFiles || d.Download)
            return null;
        var name = string.IsNullOrEmpty(root) ? d.Name : root;
        var path = Path.Combine(DatasetsDirectory, name);
        if (Directory.Exists(path) || (source.Kind == DatasetKind.CharText && File.Exists(path)))
            return null;
        return new SpecError(string.IsNullOrEmpty(root) ? "dataset.name" : "dataset.root",
            $"dataset '{d.Name}' needs its files in datasets/{name} in the data folder, which does not exist; put the files there, " +
            "or set dataset.download to true");
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
