using System.Globalization;
using Npgsql;

namespace QuantStudio.Core.Runs;

/// <summary>
/// Follows the shared store's changes on one dedicated connection that LISTENs to the channels of
/// <see cref="PostgresSchema"/>. When the connection is lost (the server restarts, a network drop, an administrator ends
/// it) the feed reconnects with a backoff of 0.1 s to 5 s, for as long as it runs, and then raises
/// <see cref="Reconnected"/>: notifications sent meanwhile are lost, so listeners re-read what they follow.
/// Handlers run on the feed's loop, one at a time: keep them short (hand the work to a queue).
/// </summary>
public sealed class PostgresChangeFeed : IStoreChangeFeed, IAsyncDisposable
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);

    private readonly string connectionString;
    private readonly PostgresStoreOptions options;
    private readonly TimeSpan probeEvery;
    private readonly Action<Exception>? onHandlerError;
    private readonly object stopLock = new();
    private CancellationTokenSource? stopping;
    private Task? stopTask;
    private Task? loop;
    private NpgsqlConnection? connection;

    /// <param name="options">The database; <see cref="PostgresStoreOptions.RetryFor"/> bounds how long <see cref="StartAsync"/>
    /// waits for a first connection, and <see cref="PostgresStoreOptions.OnRetry"/> hears of each lost connection.</param>
    /// <param name="probeEvery">How long the connection may stay silent before a probe query checks that it is alive.</param>
    /// <param name="onHandlerError">Told of an exception thrown by an event handler (the feed goes on).</param>
    public PostgresChangeFeed(PostgresStoreOptions options, TimeSpan? probeEvery = null, Action<Exception>? onHandlerError = null)
    {
        this.options = options;
        this.probeEvery = probeEvery ?? TimeSpan.FromSeconds(10);
        this.onHandlerError = onHandlerError;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Pooling = false };
        if (string.IsNullOrEmpty(builder.ApplicationName))
            builder.ApplicationName = "quantstudio-feed";
        connectionString = builder.ConnectionString;
    }

    public event Action<long, long>? EventStored;
    public event Action<long>? RunChanged;
    public event Action<long>? CancelRequested;
    public event Action? Reconnected;

    /// <summary>Returns once the feed listens (notifications committed after that are delivered).</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (stopping is not null)
            throw new InvalidOperationException("the change feed is already started");
        stopping = new CancellationTokenSource();
        try
        {
            await using var source = NpgsqlDataSource.Create(connectionString);
            connection = await new PostgresRetry(source, options).RunAsync((_, t) => ListenAsync(t), ct);
        }
        catch
        {
            stopping.Dispose();
            stopping = null;
            throw;
        }
        loop = Task.Run(() => RunAsync(stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops listening; safe to call more than once and from several threads at once (they all wait for the same stop).</summary>
    public Task StopAsync(CancellationToken ct = default)
    {
        Task stop;
        lock (stopLock)
        {
            if (stopping is null)
                return stopTask?.WaitAsync(ct) ?? Task.CompletedTask;
            stop = stopTask ??= StopOnceAsync();
        }
        return stop.WaitAsync(ct);
    }

    private async Task StopOnceAsync()
    {
        await stopping!.CancelAsync();
        if (loop is not null)
            await loop;
        if (connection is not null)
            await connection.DisposeAsync();
        connection = null;
        loop = null;
        lock (stopLock)
        {
            stopping.Dispose();
            stopping = null;
            stopTask = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                while (true)
                {
                    if (!await connection!.WaitAsync(probeEvery, stop))
                    {
                        await using var probe = new NpgsqlCommand("SELECT 1;", connection);
                        await probe.ExecuteNonQueryAsync(stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception lost)
            {
                if (!await ReconnectAsync(lost, stop))
                    return;
                Raise(Reconnected, h => h());
            }
        }
    }

    private async Task<bool> ReconnectAsync(Exception lost, CancellationToken stop)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var failure = lost;
        for (var attempt = 1; ; attempt++)
        {
            options.OnRetry?.Invoke(failure, attempt);
            if (connection is not null)
                await connection.DisposeAsync();
            connection = null;
            try
            {
                await Task.Delay(delay, stop);
                connection = await ListenAsync(stop);
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                failure = ex;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnectDelay.Ticks));
            }
        }
    }

    private async Task<NpgsqlConnection> ListenAsync(CancellationToken ct)
    {
        var c = new NpgsqlConnection(connectionString);
        try
        {
            await c.OpenAsync(ct);
            c.Notification += (_, n) => Dispatch(n.Channel, n.Payload);
            await using var cmd = new NpgsqlCommand(
                $"LISTEN {PostgresSchema.EventsChannel}; LISTEN {PostgresSchema.RunsChannel}; LISTEN {PostgresSchema.CancelChannel};", c);
            await cmd.ExecuteNonQueryAsync(ct);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private void Dispatch(string channel, string payload)
    {
        switch (channel)
        {
            case PostgresSchema.EventsChannel:
                var colon = payload.IndexOf(':');
                if (colon > 0 && TryParse(payload[..colon], out var run) && TryParse(payload[(colon + 1)..], out var seq))
                    Raise(EventStored, h => h(run, seq));
                break;
            case PostgresSchema.RunsChannel when TryParse(payload, out var changed):
                Raise(RunChanged, h => h(changed));
                break;
            case PostgresSchema.CancelChannel when TryParse(payload, out var cancelled):
                Raise(CancelRequested, h => h(cancelled));
                break;
        }
    }

    private static bool TryParse(string s, out long value) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>Calls each handler on its own, so one that throws does not keep the others from hearing.</summary>
    private void Raise<THandler>(THandler? handlers, Action<THandler> call) where THandler : Delegate
    {
        if (handlers is null)
            return;
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                call((THandler)handler);
            }
            catch (Exception ex)
            {
                onHandlerError?.Invoke(ex);
            }
        }
    }
}
