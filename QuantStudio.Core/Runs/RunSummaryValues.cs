using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>What an event adds to its run's stored summary (accuracy, sizes, ratio), for whichever process stores it.</summary>
public static class RunSummaryValues
{
    public static Dictionary<string, double> For(RunEvent e)
    {
        var values = new Dictionary<string, double>();
        switch (e)
        {
            case EpochMetrics m:
                if (m.ValAccuracy is { } acc)
                    values["val_accuracy"] = acc;
                if (m.ValPerplexity is { } ppl)
                    values["val_perplexity"] = ppl;
                values["epoch"] = m.Epoch;
                break;
            case CompressionReport c:
                values["fp32_bytes"] = c.Fp32Bytes;
                values["packed_bytes"] = c.PackedBytes;
                values["huffman_bytes"] = c.HuffmanBytes;
                values["compression_ratio"] = c.CompressionRatio;
                values["bits_per_weight"] = c.BitsPerWeight;
                break;
            case RunFinished f:
                foreach (var (k, v) in f.Summary)
                    values[k] = v;
                break;
        }
        return values;
    }

    /// <summary>The status a run's terminal event gives it, with its time and error; null for other events.</summary>
    public static RunTransition? Completion(RunEvent e, RunStatus cancelledStatus = RunStatus.Cancelled) => e switch
    {
        RunFinished => new RunTransition(RunStatus.Finished) { FinishedAt = e.Time },
        RunFailed f => new RunTransition(RunStatus.Failed) { FinishedAt = e.Time, LastError = f.Error },
        RunCancelled c => new RunTransition(cancelledStatus) { FinishedAt = e.Time, LastError = c.Reason },
        _ => null,
    };
}
