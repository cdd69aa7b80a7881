namespace QuantStudio.Core.Experiments;

/// <summary>
/// One run, as plain data. The CLI (<c>--spec</c>), the REST API (<c>POST /api/runs</c>) and the
/// web form all produce this; <see cref="SpecValidator"/> checks it and <see cref="SpecJson"/> reads
/// and writes it (snake_case JSON, documented in docs/experiment-spec.md).
/// </summary>
public sealed record ExperimentSpec
{
    public string? Name { get; init; }
    public long Seed { get; init; } = 1;
    public DatasetSpec Dataset { get; init; } = new();
    /// <summary>Absent for methods that train a single network (full precision, QAT, post-training of a student trained from scratch).</summary>
    public TeacherSpec? Teacher { get; init; }
    public StudentSpec Student { get; init; } = new();
    public string Method { get; init; } = Methods.QuantizedDistillation;
    public QuantizationSpec Quantization { get; init; } = new();
    public DistillationSpec Distillation { get; init; } = new();
    public QkdSpec Qkd { get; init; } = new();
    public OptimizerSpec Optimizer { get; init; } = new();
    /// <summary><c>fp32</c>, <c>bf16</c> or <c>auto</c> (bf16 autocast with fp32 master weights where the CPU has native bf16).</summary>
    public string Precision { get; init; } = "auto";
    public bool ChannelsLast { get; init; } = true;
}

public sealed record DatasetSpec
{
    public string Name { get; init; } = "shapes";
    /// <summary>Local folder holding the files; defaults to the data folder's datasets/&lt;name&gt;.</summary>
    public string? Root { get; init; }
    /// <summary>Fraction of the training data held out for validation, in [0, 0.5].</summary>
    public double ValidationSplit { get; init; } = 0.2;
    /// <summary>Use only the first N training examples (after shuffling with the seed); null for all.</summary>
    public int? Subset { get; init; }
    public bool Augment { get; init; }
    /// <summary>Download from the official URL (with SHA-256 check) when the files are missing.</summary>
    public bool Download { get; init; }
}

public sealed record TeacherSpec
{
    public string Arch { get; init; } = "cifar-teacher";
    public double Width { get; init; } = 1.0;
    /// <summary>A safetensors file with the teacher's weights; when absent the teacher is trained first.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Settings for training the teacher when no checkpoint is given; defaults to the run's optimizer.</summary>
    public OptimizerSpec? Train { get; init; }
}

public sealed record StudentSpec
{
    public string Arch { get; init; } = "cifar-student-1";
    public double Width { get; init; } = 1.0;
    public double Depth { get; init; } = 1.0;
}

public sealed record QuantizationSpec
{
    public int Bits { get; init; } = 4;
    /// <summary>Elements per scaling bucket; null scales each tensor as a whole.</summary>
    /// <remarks>Written even when null: the default is 256, so leaving it out would read back as 256.</remarks>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public int? BucketSize { get; init; } = 256;
    /// <summary><c>uniform</c> (min–max per bucket) or <c>absmax</c> (sign kept apart).</summary>
    public string Scheme { get; init; } = "uniform";
    /// <summary><c>deterministic</c> (round half to even) or <c>stochastic</c>.</summary>
    public string Rounding { get; init; } = "deterministic";
    public bool QuantizeFirstLast { get; init; }
    /// <summary>QKD / QAT activation bits; null keeps activations in full precision.</summary>
    public int? ActivationBits { get; init; }
    /// <summary>Differentiable quantization's point initialization: <c>quantile</c> or <c>uniform</c>.</summary>
    public string PointInit { get; init; } = "quantile";
    /// <summary>Differentiable quantization: share the bit budget across tensors by gradient norm.</summary>
    public bool BitAllocation { get; init; }
}

public sealed record DistillationSpec
{
    public double Temperature { get; init; } = 2.0;
    /// <summary>Weight of the soft (teacher) loss; 1 − α goes to the hard-label cross-entropy.</summary>
    public double Alpha { get; init; } = 0.7;
}

/// <summary>
/// QKD's phases, which share one learning-rate schedule. Self-studying takes half the student's epochs, so that
/// co-studying starts from a student close to what it reaches alone (see docs/training.md, QKD against QAT).
/// </summary>
public sealed record QkdSpec
{
    public int SelfStudyingEpochs { get; init; } = 2;
    public int CoStudyingEpochs { get; init; } = 1;
    public int TutoringEpochs { get; init; } = 1;
}

public sealed record OptimizerSpec
{
    /// <summary><c>sgd</c>, <c>adam</c> or <c>adamw</c>.</summary>
    public string Name { get; init; } = "sgd";
    public double Lr { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; } = true;
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary><c>constant</c>, <c>step</c>, <c>multistep</c> or <c>cosine</c>.</summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>
    /// Epochs of linear warm-up. Null: none, except for the LSQ methods (<c>qat</c>, <c>qkd</c>) with activation bits, which
    /// warm up one epoch per eight of the student's epochs (see <c>LsqMethod.DefaultWarmupEpochs</c>).
    /// </summary>
    public int? WarmupEpochs { get; init; }
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 64;
}

/// <summary>The method names a spec may use.</summary>
public static class Methods
{
    public const string FullPrecision = "full_precision";
    public const string Distillation = "distillation";
    public const string PostTraining = "post_training";
    public const string QuantizedDistillation = "quantized_distillation";
    public const string DifferentiableQuantization = "differentiable_quantization";
    public const string Qkd = "qkd";
    public const string Qat = "qat";

    public static readonly IReadOnlyList<string> All =
        [FullPrecision, Distillation, PostTraining, QuantizedDistillation, DifferentiableQuantization, Qkd, Qat];

    /// <summary>Methods that learn from a teacher.</summary>
    public static bool UsesTeacher(string method) =>
        method is Distillation or QuantizedDistillation or DifferentiableQuantization or Qkd;

    /// <summary>Methods that scale their quantized weights per bucket of <c>quantization.bucket_size</c> (QKD and QAT learn one step per tensor).</summary>
    public static bool UsesBuckets(string method) => method is PostTraining or QuantizedDistillation or DifferentiableQuantization;

    /// <summary>Methods whose result is quantized.</summary>
    public static bool Quantizes(string method) => method is not (FullPrecision or Distillation);
}
