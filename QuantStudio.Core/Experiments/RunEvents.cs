using System.Text.Json.Serialization;

namespace QuantStudio.Core.Experiments;

/// <summary>
/// One entry of a run's event stream. A run talks to the outside only through these, in order,
/// numbered by <see cref="Seq"/> (1, 2, 3 ...), so the same run can feed the CLI's log, the web
/// page and a test, and a late subscriber can replay the history and then go live.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RunStarted), "run_started")]
[JsonDerivedType(typeof(RunResumed), "run_resumed")]
[JsonDerivedType(typeof(PhaseStarted), "phase_started")]
[JsonDerivedType(typeof(StepMetrics), "step_metrics")]
[JsonDerivedType(typeof(EpochMetrics), "epoch_metrics")]
[JsonDerivedType(typeof(LayerSnapshot), "layer_snapshot")]
[JsonDerivedType(typeof(CompressionReport), "compression_report")]
[JsonDerivedType(typeof(CheckpointSaved), "checkpoint_saved")]
[JsonDerivedType(typeof(LogMessage), "log")]
[JsonDerivedType(typeof(RunFinished), "run_finished")]
[JsonDerivedType(typeof(RunFailed), "run_failed")]
[JsonDerivedType(typeof(RunCancelled), "run_cancelled")]
public abstract record RunEvent
{
    /// <summary>Position in the run's stream, starting at 1; assigned by <see cref="RunEventStream"/>.</summary>
    public long Seq { get; init; }

    public DateTimeOffset Time { get; init; }

    /// <summary>True for the events that end a run.</summary>
    [JsonIgnore]
    public virtual bool IsTerminal => false;
}

public sealed record RunStarted(string Method, string Dataset, string Teacher, string Student, int? Bits,
    long TeacherParams, long StudentParams, string Precision, int Threads, string SpecJson) : RunEvent;

/// <summary>
/// A run started again with <c>--resume</c> (attempt 2, 3 ...), right after its <see cref="RunStarted"/>. It continues the
/// <paramref name="Stage"/> (<c>teacher</c> or <c>student</c>) at <paramref name="Phase"/> and <paramref name="Epoch"/>
/// (0-based), after its step <paramref name="Step"/>: step and epoch metrics an earlier attempt reported past that point
/// are superseded by the ones that follow (see <see cref="RunEventHistory"/>). An empty stage means there was no
/// checkpoint: the run starts from the beginning.
/// </summary>
public sealed record RunResumed(int Attempt, string Stage, int Phase, int Epoch, long Step) : RunEvent;

/// <summary>
/// A named stage of a method (QKD's self-studying / co-studying / tutoring, a teacher pre-training ...). <paramref name="Index"/>
/// counts from 0 within the <paramref name="PhaseCount"/> phases of its <paramref name="Stage"/> (<c>teacher</c> or
/// <c>student</c>; each stage counts its steps from 0); <paramref name="StepsPerEpoch"/> is the length of each of its
/// epochs. 0 and "" when not known.
/// </summary>
public sealed record PhaseStarted(string Name, int Index, int Epochs, int PhaseCount = 0, int StepsPerEpoch = 0, string Stage = "") : RunEvent;

/// <summary>
/// Training figures at <paramref name="Step"/> (counted over the stage), which is step <paramref name="EpochStep"/> of the
/// epoch's <paramref name="EpochSteps"/> (0 when not known).
/// </summary>
public sealed record StepMetrics(string Phase, int Epoch, long Step, double Loss, IReadOnlyDictionary<string, double> LossParts,
    double LearningRate, double SamplesPerSecond, int EpochStep = 0, int EpochSteps = 0) : RunEvent;

/// <summary>End-of-epoch evaluation. Accuracy is a fraction in [0, 1]; language models report perplexity instead.</summary>
public sealed record EpochMetrics(string Phase, int Epoch, double TrainLoss, double? TrainAccuracy, double ValLoss, double? ValAccuracy,
    double? ValPerplexity, double LearningRate, double EpochSeconds) : RunEvent;

/// <summary>
/// One quantized tensor: a histogram of its full-precision weights and the quantization levels
/// (in weight space) drawn over it.
/// </summary>
public sealed record LayerSnapshot(string Phase, int Epoch, string Layer, long[] Shape, int Bits, int? BucketSize,
    double[] HistogramEdges, long[] HistogramCounts, double[] Levels, ScaleStats Scales) : RunEvent;

public sealed record ScaleStats(double Min, double Mean, double Max);

public sealed record CompressionReport(long Fp32Bytes, long PackedBytes, long HuffmanBytes, double CompressionRatio,
    double BitsPerWeight, IReadOnlyList<LayerCompression> Layers) : RunEvent;

public sealed record LayerCompression(string Layer, long Elements, int Bits, int? BucketSize, long Fp32Bytes, long PackedBytes,
    long HuffmanBytes, double HuffmanMeanBits);

public sealed record CheckpointSaved(string Kind, string File, int Epoch, long Bytes) : RunEvent;

public sealed record LogMessage(string Level, string Message) : RunEvent;

public sealed record RunFinished(IReadOnlyDictionary<string, double> Summary) : RunEvent
{
    public override bool IsTerminal => true;
}

public sealed record RunFailed(string Error) : RunEvent
{
    public override bool IsTerminal => true;
}

public sealed record RunCancelled(string Reason) : RunEvent
{
    public override bool IsTerminal => true;
}
