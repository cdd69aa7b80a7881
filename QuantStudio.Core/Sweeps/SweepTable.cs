using System.Globalization;
using QuantStudio.Core.Runs;

namespace QuantStudio.Core.Sweeps;

/// <summary>
/// A sweep's runs as a plain-text table (one column per axis, then status, score, packed size, ratio and a mark for the runs
/// on the frontier), followed by the frontier from the smallest run to the largest: what the CLI prints at the end.
/// </summary>
public static class SweepTable
{
    public const string FrontierMark = "*";

    public static void Write(TextWriter w, IReadOnlyList<SweepAxis> axes, IReadOnlyList<SweepRunOutcome> runs)
    {
        var frontier = SweepFrontier.Of(runs);
        var score = frontier.Perplexity ? "perplexity" : "accuracy";
        var header = new List<string> { "run" };
        header.AddRange(SweepExpander.Labels(axes));
        header.AddRange(["status", score, "packed", "ratio", "frontier"]);
        var rows = runs.Select(r =>
        {
            var row = new List<string> { r.Id.ToString(CultureInfo.InvariantCulture) };
            row.AddRange(r.Values.Select(SweepAxis.Format));
            row.AddRange([r.Status.ToName(), Score(r, frontier.Perplexity), Size(r.PackedBytes), Ratio(r.CompressionRatio),
                frontier.Ids.Contains(r.Id) ? FrontierMark : ""]);
            return row;
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToList();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
        w.WriteLine(Line(header));
        foreach (var row in rows)
            w.WriteLine(Line(row));

        w.WriteLine();
        var on = frontier.Points.Where(p => frontier.Ids.Contains(p.RunId)).OrderBy(p => p.Size).ToList();
        if (on.Count == 0)
        {
            w.WriteLine("Pareto frontier: no finished run has a packed size and a score yet");
            return;
        }
        w.WriteLine($"Pareto frontier ({score} against packed size, {on.Count} of {frontier.Points.Count} finished runs):");
        foreach (var p in on)
        {
            var r = runs.First(x => x.Id == p.RunId);
            w.WriteLine($"  run {r.Id}  {r.Name}  {Score(r, frontier.Perplexity)}  {Size(r.PackedBytes)}");
        }
    }

    private static string Score(SweepRunOutcome r, bool perplexity) =>
        perplexity
            ? r.Perplexity?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"
            : r.Accuracy is { } a ? (a * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Ratio(double? ratio) => ratio is { } x ? x.ToString("0.0", CultureInfo.InvariantCulture) + "x" : "-";

    /// <summary>Decimal units, as the web pages show sizes.</summary>
    public static string Size(double? bytes) => Compression.ByteSizeText.Format(bytes, "-");
}
