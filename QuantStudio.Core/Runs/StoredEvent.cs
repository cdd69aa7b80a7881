using System.Text.Json;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>
/// A run event as stored and sent: its number, type name, time and JSON. The JSON is parsed once into
/// <see cref="Payload"/> so that many followers share it instead of each serializing the event again.
/// </summary>
public sealed class StoredEvent
{
    public StoredEvent(long runId, long seq, string type, DateTimeOffset time, string json)
    {
        RunId = runId;
        Seq = seq;
        Type = type;
        Time = time;
        Json = json;
        using var doc = JsonDocument.Parse(json);
        Payload = doc.RootElement.Clone();
    }

    public long RunId { get; }
    public long Seq { get; }
    public string Type { get; }
    public DateTimeOffset Time { get; }
    public string Json { get; }
    public JsonElement Payload { get; }

    public bool IsTerminal => RunEventJson.IsTerminalType(Type);

    public static StoredEvent From(long runId, RunEvent e)
    {
        var json = RunEventJson.Serialize(e);
        return new StoredEvent(runId, e.Seq, RunEventJson.TypeName(e), e.Time, json);
    }

    public RunEvent? ToRunEvent() => RunEventJson.Deserialize(Json);
}
