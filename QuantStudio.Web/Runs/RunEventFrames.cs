using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using QuantStudio.Web.Options;

namespace QuantStudio.Web.Runs;

/// <summary>A batch of events for a browser: the kept events and the seq to resume after (which may be a thinned-out event).</summary>
public sealed record RunEventFrame(IReadOnlyList<JsonElement> Events, long LastSeq, int Thinned);

/// <summary>
/// Groups a run's followed events into frames sent at most every <see cref="QuantStudioOptions.LiveFrameMilliseconds"/>
/// (a backlog, like the replay of a long run, goes out in full frames without waiting), thinning step
/// metrics by <see cref="StepMetricsThinning"/>.
/// </summary>
public sealed class RunEventFrames(RunFollower follower, IOptions<QuantStudioOptions> options, TimeProvider time)
{
    public const int MaxEventsPerFrame = 2000;

    public async IAsyncEnumerable<RunEventFrame> FollowAsync(long runId, long afterSeq, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var frameInterval = TimeSpan.FromMilliseconds(Math.Max(0, options.Value.LiveFrameMilliseconds));
        var channel = Channel.CreateBounded<StoredEvent>(new BoundedChannelOptions(MaxEventsPerFrame)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in follower.FollowAsync(runId, afterSeq, stop.Token))
                    await channel.Writer.WriteAsync(e, stop.Token);
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        try
        {
            var thinning = new StepMetricsThinning(options.Value.LiveStepMetricsPerSecond);
            var lastFlush = time.GetTimestamp() - (long)(frameInterval.TotalSeconds * time.TimestampFrequency);
            var previousFull = false;
            while (await channel.Reader.WaitToReadAsync(ct))
            {
                var wait = frameInterval - time.GetElapsedTime(lastFlush);
                if (!previousFull && wait > TimeSpan.Zero)
                    await Task.Delay(wait, time, ct);
                var events = new List<JsonElement>();
                long lastSeq = afterSeq;
                var taken = 0;
                var thinned = 0;
                while (taken < MaxEventsPerFrame && channel.Reader.TryRead(out var e))
                {
                    taken++;
                    lastSeq = e.Seq;
                    if (thinning.Keep(e))
                        events.Add(e.Payload);
                    else
                        thinned++;
                }
                previousFull = taken == MaxEventsPerFrame;
                lastFlush = time.GetTimestamp();
                afterSeq = lastSeq;
                yield return new RunEventFrame(events, lastSeq, thinned);
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await producer;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
