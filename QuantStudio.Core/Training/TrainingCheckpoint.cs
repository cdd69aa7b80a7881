using System.Text.Json;
using QuantStudio.Core.Engine;
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
/// metadata. Random state needs no saving: every epoch reseeds from (seed, stage, phase, epoch) and
/// the loader's order depends only on (seed, epoch). The teacher-logit table is recomputed.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = "checkpoint.safetensors";
    private const string ProgressKey = "progress";

    public static long Save(string path, TrainingProgress progress, StateDict tensors)
    {
        var metadata = new Dictionary<string, string> { [ProgressKey] = JsonSerializer.Serialize(progress) };
        // Safetensors.Save writes a temporary file and renames it: a crash never leaves half a checkpoint.
        Safetensors.Save(path, tensors, metadata);
        return new FileInfo(path).Length;
    }

    /// <summary>Reads a checkpoint; the caller disposes the content.</summary>
    public static (TrainingProgress Progress, SafetensorsContent Content) Read(string path)
    {
        var content = Safetensors.Read(path);
        try
        {
            if (!content.Metadata.TryGetValue(ProgressKey, out var json))
                throw new InvalidDataException($"'{path}' is not a training checkpoint (its metadata has no '{ProgressKey}')");
            var progress = JsonSerializer.Deserialize<TrainingProgress>(json)
                ?? throw new InvalidDataException($"'{path}': empty progress record");
            return (progress, content);
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>The entries under <paramref name="prefix"/>, prefix removed (views of the content's tensors: do not dispose them).</summary>
    public static Dictionary<string, Tensor> Part(SafetensorsContent content, string prefix) =>
        content.Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
}
