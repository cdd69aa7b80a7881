namespace QuantStudio.Core.Training;

/// <summary>Inference latency at batch 1 and 64, in milliseconds (summary.json's teacher/student_latency_ms).</summary>
public sealed record Latency(double Batch1, double Batch64);
