using System.Text.Json;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Training;

/// <summary>Appends every event to a file as one JSON object per line (DIR/metrics.jsonl), flushed per event.</summary>
public sealed class JsonlEventSink(string path) : IRunEventSink
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Lock gate = new();

    public string Path { get; } = path;

    public void Emit(RunEvent e)
    {
        var line = JsonSerializer.Serialize(e, Options);
        lock (gate)
            File.AppendAllText(Path, line + "\n");
    }

    /// <summary>The sequence number of the last event in <paramref name="path"/> (0 when there is none), so a resumed run continues the numbering.</summary>
    public static long LastSeq(string path)
    {
        if (!File.Exists(path))
            return 0;
        long last = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("seq", out var seq))
                    last = Math.Max(last, seq.GetInt64());
            }
            catch (JsonException)
            {
                // A line cut short by a crash: ignore it, the numbering continues after the last whole one.
            }
        }
        return last;
    }

    /// <summary>How many whole events of <paramref name="type"/> (<c>run_started</c> ...) <paramref name="path"/> holds (0 when there is no file).</summary>
    public static int Count(string path, string type)
    {
        if (!File.Exists(path))
            return 0;
        var count = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type)
                    count++;
            }
            catch (JsonException)
            {
                // A line cut short by a crash.
            }
        }
        return count;
    }

    /// <summary>Reads the events of a metrics file back.</summary>
    public static IReadOnlyList<RunEvent> Read(string path) =>
        File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => JsonSerializer.Deserialize<RunEvent>(l, Options)!).ToList();
}
