using Microsoft.Extensions.Logging;
using QuantStudio.Core.Distributed;
using QuantStudio.Core.Experiments;
using QuantStudio.Tests.Runs;

namespace QuantStudio.Tests.Distributed;

/// <summary>
/// RabbitMQ's consumer_timeout closing the channel of a worker whose run trains longer than it (5 s here, on a broker node of
/// this test's own: RabbitMQ 3.10 has the setting only globally, and checks it about once a minute). The worker trains on; the
/// message, delivered to the other worker, waits for the run to end; the run trains once and the queue drains.
/// </summary>
public sealed class ConsumerTimeoutTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task ARunLongerThanTheConsumerTimeout_TrainsOnce_WhileItsMessageWaitsElsewhere()
    {
        await using var broker = await SeparateBroker.StartAsync("consumer_timeout = 5000");
        await using var stores = await DistributedStores.OpenAsync(db);
        var queueName = "qs-timeout-" + Guid.NewGuid().ToString("N")[..8];
        var work = Path.Combine(Path.GetTempPath(), "qs-timeout-" + Guid.NewGuid().ToString("N")[..8]);
        var logA = new LineLog();
        var logB = new LineLog();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new LambdaRunner(async (c, ct) =>
        {
            c.Events.Emit(new LogMessage("info", "a long epoch"));
            await release.Task.WaitAsync(ct);
            c.Events.Emit(new RunFinished(new Dictionary<string, double>()));
        });
        var workerA = new RunWorker(stores.Store, stores.Store, stores.Feed, stores.Artifacts, runner, stores.Settings("A", Path.Combine(work, "A")), log: logA);
        var workerB = new RunWorker(stores.Store, stores.Store, stores.Feed, stores.Artifacts, runner, stores.Settings("B", Path.Combine(work, "B")), log: logB);
        await using var queueA = new RunWorkQueue(broker.Uri, queueName, "A", logA) { ReconnectDelay = TimeSpan.FromMilliseconds(500) };
        await using var queueB = new RunWorkQueue(broker.Uri, queueName, "B", logB) { ReconnectDelay = TimeSpan.FromMilliseconds(500) };
        using var stop = new CancellationTokenSource();
        try
        {
            var run = await stores.CreateRunAsync();
            await queueA.PublishAsync(run.Id);
            var consumingA = queueA.ConsumeAsync(workerA.HandleDeliveryAsync, stop.Token);
            await WaitForAsync(() => logA.Contains($"Run {run.Id} ("), TimeSpan.FromSeconds(30), "A did not take the run", logA, logB);
            var consumingB = queueB.ConsumeAsync(workerB.HandleDeliveryAsync, stop.Token);

            // The broker closes A's channel (A trains on) and hands the message to B, which finds the run held by A and waits.
            await WaitForAsync(() => logB.Contains($"Run {run.Id} is trained by A"), TimeSpan.FromSeconds(150), "the message never reached B", logA, logB);
            Assert.Contains("timed out", logA.Text);
            Assert.Equal(RunStatus.Running, (await stores.Store.GetRunAsync(run.Id))!.Status);

            release.TrySetResult();
            await WaitForAsync(() => stores.Store.GetRunAsync(run.Id).GetAwaiter().GetResult()!.Status == RunStatus.Finished, TimeSpan.FromSeconds(30),
                "the run did not finish", logA, logB);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (await RabbitTestQueue.CountAsync(queueName, broker.NodeName) != (0, 0))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the message was not acknowledged\n--- A\n{logA.Text}\n--- B\n{logB.Text}");
                await Task.Delay(500);
            }
            Assert.Equal(1, runner.Calls);
            var events = await stores.Store.ReadEventsAsync(run.Id, 0, 1000);
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
            await stop.CancelAsync();
            await Task.WhenAll(consumingA, consumingB).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
            if (Directory.Exists(work))
                Directory.Delete(work, true);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what, LineLog a, LineLog b)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}\n--- A\n{a.Text}\n--- B\n{b.Text}");
            await Task.Delay(200);
        }
    }

    /// <summary>Keeps every formatted log line, to read what a worker did.</summary>
    private sealed class LineLog : ILogger
    {
        private readonly List<string> lines = [];

        public string Text
        {
            get
            {
                lock (lines)
                    return string.Join('\n', lines);
            }
        }

        public bool Contains(string s) => Text.Contains(s, StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines)
                lines.Add($"{DateTime.Now:HH:mm:ss} {formatter(state, exception)}");
        }
    }
}
