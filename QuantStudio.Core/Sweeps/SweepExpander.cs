using System.Text.Json;
using System.Text.Json.Nodes;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Sweeps;

/// <summary>One run of a sweep: its name (the axis values), its validated spec and the value of each axis, in axis order.</summary>
public sealed record SweepRun(string Name, ExperimentSpec Spec, IReadOnlyList<JsonElement> Values);

/// <summary>
/// A sweep expanded: its name, the base spec and axes as stored, and its runs; or, when anything is wrong, no runs and the
/// errors, each naming the member of the sweep at fault (<c>axes[0].values[2]</c>, <c>spec.optimizer.lr</c>).
/// </summary>
public sealed record SweepPlan(string Name, string SpecJson, IReadOnlyList<SweepAxis> Axes, IReadOnlyList<SweepRun> Runs,
    IReadOnlyList<SpecError> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Checks beyond <see cref="SpecValidator"/> that a host applies to every run (the server's files, say).</summary>
public delegate Task<IReadOnlyList<SpecError>> SpecCheck(ExperimentSpec spec, CancellationToken ct);

/// <summary>
/// Expands a base spec by its axes into runs: the cartesian product, the first axis outermost (bits=2 method=a, bits=2
/// method=b, bits=4 method=a, …). Each run's spec is the base spec's JSON with the axis fields set, read back through
/// <see cref="SpecJson"/> and validated; nothing is returned to queue unless every run passes.
/// </summary>
public static class SweepExpander
{
    public const int DefaultMaxRuns = 256;

    /// <summary>At most this many distinct problems are listed; the rest are counted.</summary>
    public const int MaxErrorsListed = 20;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>The number of runs the axes make (the product of their value counts), saturating at int.MaxValue.</summary>
    public static int CountRuns(IReadOnlyList<SweepAxis> axes)
    {
        long n = 1;
        foreach (var a in axes)
            n = Math.Min(int.MaxValue, n * a.Values.Count);
        return (int)n;
    }

    /// <param name="limitSetting">Where the run limit is set (named in the error when a sweep exceeds it).</param>
    public static async Task<SweepPlan> ExpandAsync(SweepRequest request, int maxRuns = DefaultMaxRuns, SpecCheck? check = null,
        string? limitSetting = null, CancellationToken ct = default)
    {
        var axes = request.Axes;
        var errors = CheckAxes(axes);
        var count = CountRuns(axes);
        if (errors.Count == 0 && count > maxRuns)
            errors.Add(new SpecError("axes",
                $"the sweep makes {count} runs ({string.Join(" × ", axes.Select(a => a.Values.Count))} values); at most {maxRuns} are allowed" +
                (limitSetting is null ? "" : $" (set by {limitSetting})")));

        JsonObject? baseSpec = null;
        try
        {
            baseSpec = JsonNode.Parse(request.SpecJson, documentOptions: DocumentOptions) as JsonObject;
            if (baseSpec is null)
                errors.Add(new SpecError("spec", "must be a JSON object: the experiment spec each run starts from"));
        }
        catch (JsonException e)
        {
            errors.Add(new SpecError("spec", "malformed JSON: " + JsonErrorText.Describe(e)));
        }

        var labels = Labels(axes);
        var name = SweepName(request, baseSpec, labels);
        var specText = baseSpec?.ToJsonString() ?? request.SpecJson;
        if (errors.Count > 0 || baseSpec is null)
            return new SweepPlan(name, specText, axes, [], errors);

        var runs = new List<SweepRun>(count);
        var problems = new List<(int Run, SpecError Error)>();
        var index = 0;
        foreach (var values in Combinations(axes))
        {
            ct.ThrowIfCancellationRequested();
            var node = (JsonObject)baseSpec.DeepClone();
            for (var i = 0; i < axes.Count; i++)
                Set(node, axes[i].Path, values[i]);
            var runName = string.Join(" ", labels.Select((l, i) => $"{l}={SweepAxis.Format(values[i])}"));
            node["name"] = runName;
            IReadOnlyList<SpecError> found;
            ExperimentSpec? spec = null;
            try
            {
                spec = SpecJson.Parse(node.ToJsonString());
                found = check is null ? [] : await check(spec, ct);
            }
            catch (SpecValidationException e)
            {
                found = e.Errors;
            }
            foreach (var e in found)
                problems.Add((index, e));
            if (spec is not null)
                runs.Add(new SweepRun(runName, spec, values));
            index++;
        }

        if (problems.Count == 0)
            return new SweepPlan(name, specText, axes, runs, []);
        var names = Combinations(axes)
            .Select(values => string.Join(" ", labels.Select((l, i) => $"{l}={SweepAxis.Format(values[i])}")))
            .ToList();
        return new SweepPlan(name, specText, axes, [], Describe(problems, names, axes));
    }

    /// <summary>Every axis names a sweepable field once and gives it distinct values of its type.</summary>
    private static List<SpecError> CheckAxes(IReadOnlyList<SweepAxis> axes)
    {
        var errors = new List<SpecError>();
        if (axes.Count == 0)
            errors.Add(new SpecError("axes", "give at least one axis, such as {\"path\": \"quantization.bits\", \"values\": [2, 4, 8]}"));
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < axes.Count; i++)
        {
            var at = $"axes[{i}]";
            var field = SweepFields.Find(axes[i].Path);
            if (field is null)
            {
                errors.Add(new SpecError(at + ".path", SweepFields.Unknown(axes[i].Path)));
                continue;
            }
            if (!seen.TryAdd(field.Path, i))
            {
                errors.Add(new SpecError(at + ".path", $"{field.Path} is already axes[{seen[field.Path]}]; give all its values in one axis"));
                continue;
            }
            if (axes[i].Values.Count == 0)
                errors.Add(new SpecError(at + ".values", $"{field.Path}: give one value or more"));
            var distinct = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < axes[i].Values.Count; j++)
            {
                var v = axes[i].Values[j];
                if (field.Check(v) is { } problem)
                    errors.Add(new SpecError($"{at}.values[{j}]", problem));
                else if (!distinct.Add(Canonical(v)))
                    errors.Add(new SpecError($"{at}.values[{j}]", $"{field.Path}: {SweepAxis.Format(v)} is given twice; each value makes its runs once"));
            }
        }
        return errors;
    }

    /// <summary>Equal values compare equal whatever their spelling (4 and 4.0 for a number field).</summary>
    private static string Canonical(JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? "n:" + d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : v.GetRawText();

    /// <summary>
    /// Groups the runs' problems: one met by every run on a field no axis sets is the base spec's (reported once, as
    /// <c>spec.field</c>); any other names the runs it fails (their axis values) and sits under the axis that sets the field,
    /// or under the spec field.
    /// </summary>
    private static List<SpecError> Describe(List<(int Run, SpecError Error)> problems, IReadOnlyList<string> runNames, IReadOnlyList<SweepAxis> axes)
    {
        var total = runNames.Count;
        var grouped = problems.GroupBy(p => p.Error).Select(g => (g.Key, Runs: g.Select(p => p.Run).Distinct().ToList())).ToList();
        var errors = new List<SpecError>();
        foreach (var (error, runs) in grouped.Take(MaxErrorsListed))
        {
            var axis = axes.Select((a, i) => (a.Path, i)).FirstOrDefault(a => a.Path == error.Field);
            var specField = error.Field == "spec" ? "spec" : "spec." + error.Field;
            if (runs.Count == total && axis.Path is null)
            {
                errors.Add(new SpecError(specField, total == 1 ? error.Message : $"{error.Message} (in every run of the sweep)"));
                continue;
            }
            var which = runs.Count == total ? "every run"
                : runs.Count == 1 ? $"run \"{runNames[runs[0]]}\""
                : $"runs {string.Join(", ", runs.Take(3).Select(r => $"\"{runNames[r]}\""))}{(runs.Count > 3 ? $" and {runs.Count - 3} more" : "")}";
            errors.Add(new SpecError(axis.Path is null ? specField : $"axes[{axis.i}]", $"{which}: {error.Field}: {error.Message}"));
        }
        if (grouped.Count > MaxErrorsListed)
            errors.Add(new SpecError("axes", $"and {grouped.Count - MaxErrorsListed} more problems"));
        return errors;
    }

    /// <summary>What a run's name calls each axis: the field's last part (bits), or its whole path where two axes share that part.</summary>
    public static IReadOnlyList<string> Labels(IReadOnlyList<SweepAxis> axes)
    {
        string Last(string path) => path[(path.LastIndexOf('.') + 1)..];
        return axes.Select(a => axes.Count(b => Last(b.Path) == Last(a.Path)) > 1 ? a.Path : Last(a.Path)).ToList();
    }

    private static string SweepName(SweepRequest request, JsonObject? baseSpec, IReadOnlyList<string> labels)
    {
        if (!string.IsNullOrWhiteSpace(request.Name))
            return request.Name.Trim();
        if (baseSpec?["name"] is JsonValue v && v.TryGetValue<string>(out var specName) && !string.IsNullOrWhiteSpace(specName))
            return specName.Trim();
        return labels.Count == 0 ? "sweep" : $"sweep of {string.Join(" × ", labels)}";
    }

    /// <summary>Every combination of one value per axis, the first axis outermost.</summary>
    public static IEnumerable<JsonElement[]> Combinations(IReadOnlyList<SweepAxis> axes)
    {
        if (axes.Count == 0 || axes.Any(a => a.Values.Count == 0))
            yield break;
        var at = new int[axes.Count];
        while (true)
        {
            yield return axes.Select((a, i) => a.Values[at[i]]).ToArray();
            var k = axes.Count - 1;
            while (k >= 0 && ++at[k] == axes[k].Values.Count)
                at[k--] = 0;
            if (k < 0)
                yield break;
        }
    }

    /// <summary>Sets a snake_case path in the spec's JSON, making the sections on the way (a teacher the base spec leaves out).</summary>
    private static void Set(JsonObject spec, string path, JsonElement value)
    {
        var parts = path.Split('.');
        var node = spec;
        foreach (var part in parts[..^1])
        {
            if (node[part] is JsonObject child)
            {
                node = child;
                continue;
            }
            if (node[part] is not null)
                return; // not an object: reading the spec back names that field
            var made = new JsonObject();
            node[part] = made;
            node = made;
        }
        node[parts[^1]] = JsonSerializer.SerializeToNode(value);
    }

    /// <summary>
    /// The value a spec holds at a path, as JSON (null where the spec has none, a teacher's field when there is no teacher):
    /// how a stored run's axis values are read back.
    /// </summary>
    public static JsonElement? ValueAt(ExperimentSpec spec, string path)
    {
        JsonNode? node = JsonSerializer.SerializeToNode(spec, AllFields);
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
                return null;
        }
        return JsonSerializer.SerializeToElement(node);
    }

    /// <summary>The spec's JSON with every field, nulls included (the stored spec leaves nulls out).</summary>
    private static readonly JsonSerializerOptions AllFields = new(QuantStudio.Core.Experiments.SpecJson.Options)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
        WriteIndented = false,
    };
}
