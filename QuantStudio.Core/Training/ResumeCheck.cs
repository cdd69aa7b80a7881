using System.Text.Json.Nodes;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Training;

/// <summary>
/// What <c>--resume</c> may continue. A resume continues the same run: the spec must be the one the checkpoint was written
/// with, except for the fields in <see cref="MayChange"/>, which say where inputs are read from or how the run is labelled
/// and leave the result as it is. Anything else (bits, epochs, learning rate, seed, method ...) would make the result
/// neither the old run's nor the new spec's, so the resume is refused with the fields named. Checked before the run's
/// folder is touched.
/// </summary>
public static class ResumeCheck
{
    /// <summary>The spec fields (dotted names) a resume may change.</summary>
    public static readonly IReadOnlyList<string> MayChange = ["name", "dataset.root", "dataset.download", "teacher.checkpoint"];

    /// <summary>
    /// The progress of the checkpoint a resume in <paramref name="directory"/> continues from, or null when there is none
    /// (the run then starts from the beginning). Throws <see cref="RunInputException"/> when the checkpoint cannot be read
    /// or was written for another spec.
    /// </summary>
    public static TrainingProgress? Check(string directory, ExperimentSpec spec)
    {
        var path = Path.Combine(directory, TrainingCheckpoint.FileName);
        if (!File.Exists(path))
            return null;
        var (progress, content) = TrainingCheckpoint.Read(path);
        string? saved;
        using (content)
            saved = TrainingCheckpoint.SpecOf(content);
        if (saved is null)
        {
            // A checkpoint from before the spec was recorded: only its method can be compared (the teacher's stage trains
            // the teacher in full precision, whatever the method).
            if (progress.Stage == "student" && progress.Method != spec.Method)
                throw Refused(path, $"was written by method '{progress.Method}', but the spec's method is '{spec.Method}'");
            return progress;
        }
        JsonNode? before;
        try
        {
            before = JsonNode.Parse(saved);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new RunInputException($"the training checkpoint '{path}' has a damaged 'spec' record ({JsonErrorText.Describe(e)}); start the run over without --resume", e);
        }
        var changed = Differences(before, JsonNode.Parse(SpecJson.Write(spec))).Where(f => !MayChange.Contains(f)).ToList();
        if (changed.Count > 0)
        {
            var method = changed.Contains("method") ? $" (method '{before?["method"]}' in the checkpoint, '{spec.Method}' in the spec)" : "";
            throw Refused(path, $"was written for a spec that differs in {string.Join(", ", changed)}{method}");
        }
        return progress;
    }

    private static RunInputException Refused(string path, string why) =>
        new($"cannot resume: the checkpoint '{path}' {why}; resume with the run's own spec (only {string.Join(", ", MayChange)} may change), or start a new run in another folder");

    /// <summary>The dotted names of the leaves that differ between two JSON documents (an absent field counts as null).</summary>
    public static IReadOnlyList<string> Differences(JsonNode? a, JsonNode? b)
    {
        var result = new List<string>();
        Compare(a, b, "", result);
        return result;
    }

    private static void Compare(JsonNode? a, JsonNode? b, string path, List<string> result)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                Compare(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}", result);
            return;
        }
        // A section present on one side only (a teacher added or removed) is named as a whole.
        if (!JsonNode.DeepEquals(a, b))
            result.Add(path);
    }
}
