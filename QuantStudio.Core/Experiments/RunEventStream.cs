namespace QuantStudio.Core.Experiments;

/// <summary>Where a run's events go: a JSONL file, the web app's store and hub, a test's list.</summary>
public interface IRunEventSink
{
    void Emit(RunEvent e);
}

/// <summary>
/// Numbers and time-stamps a run's events and fans them out to the sinks. A resumed run continues
/// the numbering from the last stored event.
/// </summary>
public sealed class RunEventStream
{
    private readonly IReadOnlyList<IRunEventSink> sinks;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private long seq;

    public RunEventStream(IEnumerable<IRunEventSink> sinks, TimeProvider? time = null, long lastSeq = 0)
    {
        this.sinks = sinks.ToList();
        this.time = time ?? TimeProvider.System;
        seq = lastSeq;
    }

    public long LastSeq
    {
        get
        {
            lock (gate)
                return seq;
        }
    }

    public T Emit<T>(T e) where T : RunEvent
    {
        T stamped;
        lock (gate)
        {
            stamped = e with { Seq = ++seq, Time = time.GetUtcNow() };
            foreach (var sink in sinks)
                sink.Emit(stamped);
        }
        return stamped;
    }
}

/// <summary>Collects events in memory (tests, summaries).</summary>
public sealed class ListEventSink : IRunEventSink
{
    private readonly List<RunEvent> events = [];

    public IReadOnlyList<RunEvent> Events
    {
        get
        {
            lock (events)
                return events.ToList();
        }
    }

    public void Emit(RunEvent e)
    {
        lock (events)
            events.Add(e);
    }
}
