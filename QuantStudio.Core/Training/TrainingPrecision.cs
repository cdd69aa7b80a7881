using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Training;

/// <summary>How a run's <c>precision</c> setting resolves on this machine.</summary>
public static class TrainingPrecision
{
    /// <summary>
    /// True when training steps run under bf16 autocast: always for <c>bf16</c>, never for <c>fp32</c>,
    /// and for <c>auto</c> only where the CPU has native bf16 (elsewhere bf16 is emulated and slower than fp32).
    /// Evaluation and the compressed checkpoint are fp32 whatever this says.
    /// </summary>
    public static bool UsesBf16(string precision) => precision switch
    {
        "bf16" => true,
        "fp32" => false,
        "auto" => false,
        _ => throw new ArgumentException($"unknown precision '{precision}'; allowed: fp32, bf16, auto", nameof(precision)),
    };

    /// <summary>The name reported in events: what the run actually uses.</summary>
    public static string Describe(string precision) => UsesBf16(precision) ? "bf16" : "fp32";
}
