using System.Text.Json;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Experiments;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>Where a stage of a run stands: the next phase and epoch to run, and running totals.</summary>
/// <param name="Stage"><c>teacher</c> (training the teacher first) or <c>student</c>.</param>
/// <param name="Epoch">The next epoch of <paramref name="Phase"/> to run (0 at a phase boundary).</param>
public sealed record TrainingProgress(string Stage, string Method, int Phase, int Epoch, long Step, long TrainSamples, double TrainSeconds);

/// <summary>
/// The whole training state in one safetensors file: every network (<c>model.&lt;name&gt;.*</c>), the
/// method's quantizer parameters (<c>method.*</c>), each trainee's optimizer and schedule
/// (<c>optimizer.&lt;trainee&gt;.*</c>, <c>scheduler.&lt;trainee&gt;.*</c>), and the progress as JSON
/// metadata, next to the spec the run was started with (<c>spec</c>, so that a resume can check it continues the same
/// run). Random state needs no saving: every epoch reseeds from (seed, stage, phase, epoch) and
/// the loader's order depends only on (seed, epoch). The teacher-logit table is recomputed.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = "checkpoint.safetensors";
    private const string ProgressKey = "progress";
    private const string SpecKey = "spec";

    public static long Save(string path, TrainingProgress progress, StateDict tensors, string? specJson = null)
    {
        var metadata = new Dictionary<string, string> { [ProgressKey] = JsonSerializer.Serialize(progress) };
        if (specJson is not null)
            metadata[SpecKey] = specJson;
        // Safetensors.Save writes a temporary file and renames it: a crash never leaves half a checkpoint.
        Safetensors.Save(path, tensors, metadata);
        return new FileInfo(path).Length;
    }

    /// <summary>
    /// Reads a checkpoint; the caller disposes the content. A file that is not one (not safetensors, no progress record, a
    /// progress record that does not parse) is a <see cref="RunInputException"/> naming the file.
    /// </summary>
    public static (TrainingProgress Progress, SafetensorsContent Content) Read(string path)
    {
        SafetensorsContent content;
        try
        {
            content = Safetensors.Read(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw new RunInputException($"the training checkpoint '{path}' is not a valid safetensors file ({e.Message}); start the run over without --resume", e);
        }
        try
        {
            return (ProgressOf(path, content), content);
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>The spec a checkpoint was written with, as JSON; null for checkpoints written before it was recorded.</summary>
    public static string? SpecOf(SafetensorsContent content) => content.Metadata.GetValueOrDefault(SpecKey);

    private static TrainingProgress ProgressOf(string path, SafetensorsContent content)
    {
        RunInputException Bad(string problem, Exception? inner = null) =>
            new($"the training checkpoint '{path}' {problem}; start the run over without --resume", inner);
        if (!content.Metadata.TryGetValue(ProgressKey, out var json))
            throw Bad($"has no '{ProgressKey}' record in its metadata (it was not written by a training run)");
        TrainingProgress? progress;
        try
        {
            progress = JsonSerializer.Deserialize<TrainingProgress>(json);
        }
        catch (JsonException e)
        {
            throw Bad($"has a damaged '{ProgressKey}' record ({JsonErrorText.Describe(e)})", e);
        }
        if (progress is null || string.IsNullOrEmpty(progress.Stage) || string.IsNullOrEmpty(progress.Method) || progress.Phase < 0 || progress.Epoch < 0 || progress.Step < 0)
            throw Bad($"has an incomplete '{ProgressKey}' record");
        return progress;
    }

    /// <summary>The entries under <paramref name="prefix"/>, prefix removed (views of the content's tensors: do not dispose them).</summary>
    public static Dictionary<string, Tensor> Part(SafetensorsContent content, string prefix) =>
        content.Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
}
