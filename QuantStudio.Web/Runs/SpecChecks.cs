using Microsoft.Extensions.Options;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Everything a spec must pass before it is queued: the Core validator (ranges, names) plus what only
/// the server can check: that a file-based dataset has its folder and that a teacher checkpoint exists.
/// </summary>
public sealed class SpecChecks(IOptions<QuantStudioOptions> options)
{
    /// <summary>Datasets generated in memory from the seed; they need no files.</summary>
    public static readonly IReadOnlySet<string> GeneratedDatasets = new HashSet<string> { "shapes", "text-synthetic" };

    /// <summary>Parses and checks spec JSON; the errors name the fields.</summary>
    public (ExperimentSpec? Spec, IReadOnlyList<SpecError> Errors) Parse(string json)
    {
        ExperimentSpec spec;
        try
        {
            spec = SpecJson.Parse(json);
        }
        catch (SpecValidationException ex)
        {
            return (null, ex.Errors);
        }
        var errors = CheckEnvironment(spec);
        return errors.Count == 0 ? (spec, errors) : (null, errors);
    }

    /// <summary>Validates a spec built in code (the form).</summary>
    public IReadOnlyList<SpecError> Check(ExperimentSpec spec)
    {
        var errors = SpecValidator.Validate(spec).ToList();
        errors.AddRange(CheckEnvironment(spec));
        return errors;
    }

    /// <summary>The folder a dataset is read from: its root, or data/datasets/&lt;name&gt;.</summary>
    public string DatasetRoot(DatasetSpec d) =>
        string.IsNullOrWhiteSpace(d.Root)
            ? Path.Combine(options.Value.ResolvedDataDirectory, "datasets", d.Name)
            : Path.GetFullPath(d.Root, options.Value.ResolvedDataDirectory);

    private List<SpecError> CheckEnvironment(ExperimentSpec spec)
    {
        var errors = new List<SpecError>();
        var d = spec.Dataset;
        if (ExperimentCatalog.Datasets.Contains(d.Name) && !GeneratedDatasets.Contains(d.Name) && !d.Download)
        {
            var root = DatasetRoot(d);
            if (!Directory.Exists(root))
                errors.Add(new SpecError(string.IsNullOrWhiteSpace(d.Root) ? "dataset.name" : "dataset.root",
                    $"dataset '{d.Name}' needs its files in {root}, which does not exist; put the files there, set dataset.root, " +
                    "or set dataset.download to true"));
        }
        if (spec.Teacher?.Checkpoint is { Length: > 0 } ckpt && Methods.UsesTeacher(spec.Method))
        {
            var path = Path.GetFullPath(ckpt, options.Value.ResolvedDataDirectory);
            if (!File.Exists(path))
                errors.Add(new SpecError("teacher.checkpoint", $"no teacher checkpoint at {path}; upload one or leave it empty to train the teacher"));
        }
        return errors;
    }
}
