using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Sweeps;

/// <summary>
/// A runner for sweep tests that trains nothing: each run ends at once with the figures the test gives for its bit-width
/// (accuracy, and a packed size of 1000 bytes per bit), so a sweep's frontier is known before it runs.
/// </summary>
public sealed class FiguresRunner(IReadOnlyDictionary<int, double> accuracyByBits) : IExperimentRunner
{
    public static double PackedBytes(int bits) => 1000.0 * bits;

    /// <summary>When set, each run waits for one release of this semaphore before it finishes.</summary>
    public SemaphoreSlim? Gate { get; init; }

    public async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var spec = context.Spec;
        context.Events.Emit(new RunStarted(spec.Method, spec.Dataset.Name, spec.Teacher?.Arch ?? "", spec.Student.Arch,
            spec.Quantization.Bits, 100, 20, "fp32", 1, SpecJson.Write(spec)));
        if (Gate is not null)
            await Gate.WaitAsync(cancellationToken);
        var bits = spec.Quantization.Bits;
        context.Events.Emit(new RunFinished(new Dictionary<string, double>
        {
            ["student_accuracy"] = accuracyByBits[bits],
            ["packed_bytes"] = PackedBytes(bits),
            ["compression_ratio"] = 32.0 / bits,
        }));
    }
}
