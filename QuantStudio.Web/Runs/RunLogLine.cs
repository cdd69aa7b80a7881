using System.Globalization;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Estimation;

namespace QuantStudio.Web.Runs;

/// <summary>One line of a run's log panel.</summary>
public sealed record RunLogLine(long Seq, DateTimeOffset Time, string Level, string Text)
{
    /// <summary>
    /// The line an event adds to the run's log: its log messages and its milestones (start, phases, epochs, saved files,
    /// the end). Step metrics, snapshots and the per-epoch training checkpoint add none.
    /// </summary>
    public static RunLogLine? Of(RunEvent e)
    {
        var (level, text) = e switch
        {
            LogMessage m => (m.Level.ToLowerInvariant(), m.Message),
            RunStarted s => ("info", Started(s)),
            RunResumed r => ("info", r.Stage.Length == 0
                ? $"attempt {r.Attempt}: no checkpoint yet, started from the beginning"
                : $"attempt {r.Attempt}: resumed the {r.Stage} at phase {r.Phase + 1}, epoch {r.Epoch + 1}, after step {r.Step}"),
            PhaseStarted p => ("info", p.Epochs > 0 ? $"phase {p.Name}: {Count(p.Epochs, "epoch")}" : $"phase {p.Name}"),
            EpochMetrics m => ("info", Epoch(m)),
            CheckpointSaved { Kind: not "training" } c => ("info", $"saved {Path.GetFileName(c.File)} ({Bytes.Format(c.Bytes)})"),
            RunFinished f => ("info", Finished(f.Summary)),
            RunFailed f => ("error", f.Error),
            RunCancelled c => ("warning", c.Reason),
            _ => (null, null),
        };
        return level is null || text is null ? null : new RunLogLine(e.Seq, e.Time, level, text);
    }

    private static string Started(RunStarted s)
    {
        var parts = new List<string> { $"started {s.Method} on {s.Dataset}" };
        if (s.Teacher.Length > 0)
            parts.Add($"teacher {s.Teacher} ({N(s.TeacherParams)} parameters)");
        parts.Add($"student {s.Student} ({N(s.StudentParams)} parameters)");
        if (s.Bits is { } bits)
            parts.Add($"{bits} bits");
        parts.Add($"{s.Precision}, {Count(s.Threads, "thread")}");
        return string.Join(", ", parts);
    }

    private static string Epoch(EpochMetrics m)
    {
        var quality = m.ValPerplexity is { } ppl ? $"val perplexity {F(ppl, "0.00")}" : $"val accuracy {Bytes.Percent(m.ValAccuracy)}";
        return $"{m.Phase} epoch {m.Epoch}: train loss {F(m.TrainLoss, "0.000")}, val loss {F(m.ValLoss, "0.000")}, {quality} ({F(m.EpochSeconds, "0.0")} s)";
    }

    private static string Finished(IReadOnlyDictionary<string, double> summary)
    {
        double? Get(string key) => summary.TryGetValue(key, out var v) ? v : null;
        var text = Get("wall_seconds") is { } wall ? $"finished in {F(wall, "0.0")} s" : "finished";
        if (Get("student_accuracy") is { } accuracy)
            text += $": student accuracy {Bytes.Percent(accuracy)}" + (Get("teacher_accuracy") is { } t ? $" (teacher {Bytes.Percent(t)})" : "");
        else if (Get("student_perplexity") is { } perplexity)
            text += $": student perplexity {F(perplexity, "0.00")}" + (Get("teacher_perplexity") is { } t ? $" (teacher {F(t, "0.00")})" : "");
        return text;
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
