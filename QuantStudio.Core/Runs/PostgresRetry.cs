using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace QuantStudio.Core.Runs;

/// <summary>
/// Runs a database operation again while PostgreSQL is unreachable or restarting. Each attempt opens its own connection, so
/// an operation must be a whole unit of work (one transaction) that is safe to repeat; the attempt number (from 1) lets it
/// recognise work that an earlier attempt committed before its connection broke.
/// </summary>
internal sealed class PostgresRetry(NpgsqlDataSource dataSource, PostgresStoreOptions options)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    public async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> operation, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(attempt, ct);
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested
                                       && Stopwatch.GetElapsedTime(started) + delay < options.RetryFor)
            {
                options.OnRetry?.Invoke(ex, attempt);
                // The pool's other idle connections went down with this one (a restart or an admin termination ends them all).
                dataSource.Clear();
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    public Task RunAsync(Func<int, CancellationToken, Task> operation, CancellationToken ct) =>
        RunAsync<bool>(async (attempt, c) => { await operation(attempt, c); return true; }, ct);

    /// <summary>
    /// Failures that a later attempt can get past: the connection could not be made or broke (08xxx, network errors), the
    /// server is shutting down or starting (57P01, 57P02, 57P03), too many connections (53300), or the transaction lost a
    /// serialization race or a deadlock (40001, 40P01) and was rolled back.
    /// </summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                                || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300" or "40001" or "40P01",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        _ => false,
    };
}
