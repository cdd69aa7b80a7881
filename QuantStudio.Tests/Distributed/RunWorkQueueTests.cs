using System.Text;
using QuantStudio.Core.Distributed;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// The work queue on the local RabbitMQ: confirmed publishes, one delivery at a time, redelivery of what was not acknowledged.
/// (In the collection of the distributed scenarios, one of which restarts the broker.)
/// </summary>
[Collection(QuantStudio.Tests.Training.TrainingCollection.Name)]
public sealed class RunWorkQueueTests
{
    [Fact]
    public async Task AnUnacknowledgedRun_ComesAgainAfterItsConsumerStops_AndAnAcknowledgedOneIsGone()
    {
        await using var test = new RabbitTestQueue();
        await using var publisher = new RunWorkQueue(test.Uri, test.Name, "test publisher");
        await publisher.PublishAsync(41);
        await publisher.PublishAsync(42);

        // The first consumer takes one message (prefetch 1) and stops without acknowledging it.
        await using var first = new RunWorkQueue(test.Uri, test.Name, "test consumer 1");
        using var stopFirst = new CancellationTokenSource();
        var firstSeen = new List<(long?, bool)>();
        var consuming = first.ConsumeAsync(async (d, ct) =>
        {
            firstSeen.Add((d.RunId, d.Redelivered));
            await stopFirst.CancelAsync();
        }, stopFirst.Token);
        await consuming.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal([(41L, false)], firstSeen);

        // The next consumer gets it again, marked redelivered, then the other run; it acknowledges both.
        await using var second = new RunWorkQueue(test.Uri, test.Name, "test consumer 2");
        using var stopSecond = new CancellationTokenSource();
        var secondSeen = new List<(long?, bool)>();
        var consumingAgain = second.ConsumeAsync(async (d, ct) =>
        {
            secondSeen.Add((d.RunId, d.Redelivered));
            Assert.True(await d.AckAsync());
            if (secondSeen.Count == 2)
                await stopSecond.CancelAsync();
        }, stopSecond.Token);
        await consumingAgain.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal([(41L, true), (42L, false)], secondSeen);
        Assert.Equal((0, 0), await test.CountAsync());
    }

    [Fact]
    public async Task TheQueueIsADurableQuorumQueue()
    {
        await using var test = new RabbitTestQueue();
        await using var publisher = new RunWorkQueue(test.Uri, test.Name, "test publisher");
        await publisher.EnsureQueueAsync();
        var (code, output) = await RabbitTestQueue.RabbitCtlAsync("list_queues", "-q", "--no-table-headers", "name", "type", "durable");
        Assert.Equal(0, code);
        Assert.Contains($"{test.Name}\tquorum\ttrue", output);
    }

    [Theory]
    [InlineData("17", 17L)]
    [InlineData(" 9 ", 9L)]
    [InlineData("0", null)]
    [InlineData("-3", null)]
    [InlineData("run 5", null)]
    [InlineData("", null)]
    public void AMessageNamesARunByItsIdInDigits(string body, long? expected) =>
        Assert.Equal(expected, RunWorkQueue.ParseRunId(Encoding.ASCII.GetBytes(body)));

    [Fact]
    public void DistributedSettings_NameEachProblem()
    {
        var problems = new DistributedOptions { Postgres = "Host=x", RabbitMq = "http://x", Queue = "bad name", MaxAttempts = 0, HeartbeatSeconds = 0, Artifacts = "s3" }
            .Problems();
        Assert.Collection(problems,
            p => Assert.StartsWith("RabbitMq:", p),
            p => Assert.StartsWith("Queue:", p),
            p => Assert.StartsWith("MaxAttempts:", p),
            p => Assert.StartsWith("HeartbeatSeconds:", p),
            p => Assert.StartsWith("Artifacts:", p));
        Assert.Empty(new DistributedOptions { Postgres = "Host=x", RabbitMq = "amqp://u:p@h:5672/" }.Problems());
        Assert.Equal("amqp://u:***@h:5672/", DistributedOptions.Redact("amqp://u:secret@h:5672/"));
    }
}
