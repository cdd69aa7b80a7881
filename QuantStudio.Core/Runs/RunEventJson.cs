using System.Text.Json;
using System.Text.Json.Serialization;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>
/// The JSON form of run events in the store, the REST API, the hub and metrics.jsonl: snake_case like
/// the spec, with the "type" discriminator first. NaN and infinities (a diverging loss) are written as
/// strings rather than failing the run.
/// </summary>
public static class RunEventJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public const string RunStarted = "run_started";
    public const string RunResumed = "run_resumed";
    public const string PhaseStarted = "phase_started";
    public const string StepMetrics = "step_metrics";
    public const string EpochMetrics = "epoch_metrics";
    public const string LayerSnapshot = "layer_snapshot";
    public const string CompressionReport = "compression_report";
    public const string CheckpointSaved = "checkpoint_saved";
    public const string Log = "log";
    public const string RunFinished = "run_finished";
    public const string RunFailed = "run_failed";
    public const string RunCancelled = "run_cancelled";

    public static string Serialize(RunEvent e) => JsonSerializer.Serialize(e, Options);

    public static RunEvent? Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<RunEvent>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>An event as the store and the frames carry it (<see cref="StoredEvent.Payload"/>); null when it is not one.</summary>
    public static RunEvent? Deserialize(JsonElement payload)
    {
        try
        {
            return payload.Deserialize<RunEvent>(Options);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    public static string TypeName(RunEvent e) => e switch
    {
        Core.Experiments.RunStarted => RunStarted,
        Core.Experiments.RunResumed => RunResumed,
        Core.Experiments.PhaseStarted => PhaseStarted,
        Core.Experiments.StepMetrics => StepMetrics,
        Core.Experiments.EpochMetrics => EpochMetrics,
        Core.Experiments.LayerSnapshot => LayerSnapshot,
        Core.Experiments.CompressionReport => CompressionReport,
        Core.Experiments.CheckpointSaved => CheckpointSaved,
        LogMessage => Log,
        Core.Experiments.RunFinished => RunFinished,
        Core.Experiments.RunFailed => RunFailed,
        Core.Experiments.RunCancelled => RunCancelled,
        _ => throw new ArgumentException($"unknown event type {e.GetType().Name}", nameof(e)),
    };

    public static bool IsTerminalType(string type) => type is RunFinished or RunFailed or RunCancelled;
}
