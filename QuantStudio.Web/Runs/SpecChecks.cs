using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;

namespace QuantStudio.Web.Runs;

/// <summary>
/// Everything a spec must pass before it is queued: the Core validator (ranges, names), models that read the dataset's
/// kind of input, and what only the server can check (<see cref="RunInputs"/>: the teacher and the dataset's files, named,
/// not given as paths).
/// </summary>
public sealed class SpecChecks(RunInputs inputs)
{
    /// <summary>Datasets generated in memory from the seed; they need no files.</summary>
    public static readonly IReadOnlySet<string> GeneratedDatasets = DatasetRegistry.All.Where(s => s.IsGenerated).Select(s => s.Name).ToHashSet();

    /// <summary>Parses and checks spec JSON; the errors name the fields.</summary>
    public async Task<(ExperimentSpec? Spec, IReadOnlyList<SpecError> Errors)> ParseAsync(string json, CancellationToken ct = default)
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
        var errors = await CheckBeyondTheValidatorAsync(spec, ct);
        return errors.Count == 0 ? (spec, errors) : (null, errors);
    }

    /// <summary>Validates a spec built in code (the form, the presets).</summary>
    public async Task<IReadOnlyList<SpecError>> CheckAsync(ExperimentSpec spec, CancellationToken ct = default)
    {
        var errors = SpecValidator.Validate(spec).ToList();
        errors.AddRange(await CheckBeyondTheValidatorAsync(spec, ct));
        return errors;
    }

    private async Task<List<SpecError>> CheckBeyondTheValidatorAsync(ExperimentSpec spec, CancellationToken ct)
    {
        var errors = ModelsFitTheDataset(spec).ToList();
        errors.AddRange(await inputs.CheckAsync(spec, ct));
        return errors;
    }

    /// <summary>The language model reads text and the others read images; the trainer would only find out when it builds them.</summary>
    public static IEnumerable<SpecError> ModelsFitTheDataset(ExperimentSpec spec)
    {
        if (!DatasetRegistry.Contains(spec.Dataset.Name))
            yield break;
        var text = DatasetRegistry.Get(spec.Dataset.Name).Kind == DatasetKind.CharText;
        var models = new List<(string Field, string Arch)> { ("student.arch", spec.Student.Arch) };
        if (Methods.UsesTeacher(spec.Method) && spec.Teacher is { } t)
            models.Add(("teacher.arch", t.Arch));
        foreach (var (field, arch) in models)
        {
            if (!ModelZoo.IsKnown(arch) || ModelZoo.IsLanguageModel(arch) == text)
                continue;
            var fitting = DatasetRegistry.All.Where(s => (s.Kind == DatasetKind.CharText) == ModelZoo.IsLanguageModel(arch)).Select(s => s.Name);
            yield return new SpecError(field, text
                ? $"model '{arch}' reads images and dataset '{spec.Dataset.Name}' is text; pick char-lstm, or an image dataset"
                : $"model '{arch}' reads text and dataset '{spec.Dataset.Name}' is images; pick an image model, or a text dataset ({string.Join(", ", fitting)})");
        }
    }
}
