using System.Text.Json;
using System.Text.Json.Serialization;

namespace QuantStudio.Core.Training;

/// <summary>
/// DIR/summary.json: the figures a finished run is compared by. Accuracies are fractions in [0, 1]
/// on the test split; language models report perplexities instead. Sizes are those of the student's
/// state_dict: fp32 everything, versus quantized weights packed (or Huffman-coded) with their scales
/// plus every other tensor in fp32.
/// </summary>
public sealed record RunSummary
{
    public required string Method { get; init; }
    public required string Dataset { get; init; }
    public int? Bits { get; init; }
    public int? BucketSize { get; init; }
    public double? TeacherAccuracy { get; init; }
    public double? StudentAccuracy { get; init; }
    public double? TeacherPerplexity { get; init; }
    public double? StudentPerplexity { get; init; }
    /// <summary>The student rebuilt from its stored (dequantized) weights alone, as the compressed checkpoint loads it; differs from the student's figure only when activations are quantized too.</summary>
    public double? StudentCheckpointAccuracy { get; init; }
    public double? StudentCheckpointPerplexity { get; init; }
    public long Fp32Bytes { get; init; }
    public long PackedBytes { get; init; }
    public long HuffmanBytes { get; init; }
    public double CompressionRatio { get; init; }
    public long? QscBytes { get; init; }
    public long StudentParams { get; init; }
    public long TeacherParams { get; init; }
    public long StudentFlops { get; init; }
    public long TeacherFlops { get; init; }
    public int Epochs { get; init; }
    public double WallSeconds { get; init; }
    public double TrainSamplesPerS { get; init; }
    public required string Precision { get; init; }
    /// <summary>With <c>precision: auto</c>, the measured training-step time (ms) of each precision it chose between.</summary>
    public Dictionary<string, double>? PrecisionStepMs { get; init; }
    public bool TeacherLogitCache { get; init; }
    public Latency? TeacherLatencyMs { get; init; }
    public required Latency StudentLatencyMs { get; init; }
    /// <summary>Settings of the run that work against what it was asked for (layers left in full precision that dominate the size ...).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>The low-bit ONNX export of the student (model-lowbit.onnx) scored in ONNX Runtime on the test split; null when it could not be exported.</summary>
    public double? OnnxAccuracy { get; init; }
    public double? OnnxPerplexity { get; init; }
    public long? OnnxBytes { get; init; }
    /// <summary>ONNX Runtime latency of the teacher (float weights) and of the low-bit student.</summary>
    public Latency? TeacherOnnxLatencyMs { get; init; }
    public Latency? StudentOnnxLatencyMs { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunSummary Read(string path) =>
        JsonSerializer.Deserialize<RunSummary>(File.ReadAllText(path), JsonOptions) ?? throw new InvalidDataException($"'{path}' holds no summary");

    /// <summary>The numeric fields, as carried by RunFinished.</summary>
    public IReadOnlyDictionary<string, double> Numbers()
    {
        var d = new Dictionary<string, double>();
        void Add(string key, double? value)
        {
            if (value is { } v)
                d[key] = v;
        }
        Add("bits", Bits);
        Add("bucket_size", BucketSize);
        Add("teacher_accuracy", TeacherAccuracy);
        Add("student_accuracy", StudentAccuracy);
        Add("teacher_perplexity", TeacherPerplexity);
        Add("student_perplexity", StudentPerplexity);
        Add("student_checkpoint_accuracy", StudentCheckpointAccuracy);
        Add("student_checkpoint_perplexity", StudentCheckpointPerplexity);
        Add("fp32_bytes", Fp32Bytes);
        Add("packed_bytes", PackedBytes);
        Add("huffman_bytes", HuffmanBytes);
        Add("compression_ratio", CompressionRatio);
        Add("qsc_bytes", QscBytes);
        Add("student_params", StudentParams);
        Add("teacher_params", TeacherParams);
        Add("epochs", Epochs);
        Add("wall_seconds", WallSeconds);
        Add("train_samples_per_s", TrainSamplesPerS);
        Add("teacher_latency_ms_batch1", TeacherLatencyMs?.Batch1);
        Add("teacher_latency_ms_batch64", TeacherLatencyMs?.Batch64);
        Add("student_latency_ms_batch1", StudentLatencyMs.Batch1);
        Add("student_latency_ms_batch64", StudentLatencyMs.Batch64);
        Add("onnx_accuracy", OnnxAccuracy);
        Add("onnx_perplexity", OnnxPerplexity);
        Add("onnx_bytes", OnnxBytes);
        Add("teacher_onnx_latency_ms_batch1", TeacherOnnxLatencyMs?.Batch1);
        Add("teacher_onnx_latency_ms_batch64", TeacherOnnxLatencyMs?.Batch64);
        Add("student_onnx_latency_ms_batch1", StudentOnnxLatencyMs?.Batch1);
        Add("student_onnx_latency_ms_batch64", StudentOnnxLatencyMs?.Batch64);
        return d;
    }
}
