using System.Text.Json;
using Npgsql;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>
/// The shared store of distributed mode: many workers and web nodes on one PostgreSQL database. It keeps the semantics of
/// <see cref="SqliteRunStore"/> (the same contract tests run against both) and adds what workers need (<see cref="IRunClaims"/>).
/// <list type="bullet">
/// <item>Every operation is one transaction on a pooled connection, retried with backoff for
/// <see cref="PostgresStoreOptions.RetryFor"/> while the server is unreachable or restarting; a retry after a commit whose
/// answer was lost does not do the work twice (runs and sweeps carry a creation key, an event already stored identically
/// counts as stored).</item>
/// <item>Every change is announced in its own transaction by triggers (see <see cref="PostgresSchema"/>), which
/// <see cref="PostgresChangeFeed"/> listens to.</item>
/// <item>Times are kept to the microsecond, as PostgreSQL keeps them.</item>
/// <item>A run that goes back to the queue starts afresh: its attempts, worker, heartbeat and cancel request are cleared.</item>
/// </list>
/// </summary>
public sealed partial class PostgresRunStore : IRunStore, IRunClaims, IAsyncDisposable
{
    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresStoreOptions options;
    private readonly PostgresRetry retry;

    public PostgresRunStore(PostgresStoreOptions options)
    {
        this.options = options;
        dataSource = NpgsqlDataSource.Create(options.ConnectionString);
        retry = new PostgresRetry(dataSource, options);
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    public Task InitializeAsync(CancellationToken ct = default) =>
        retry.RunAsync(async (_, c) =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(c);
            await PostgresSchema.EnsureAsync(conn, c);
        }, ct);

    public Task<RunRecord> CreateRunAsync(NewRun run, CancellationToken ct = default)
    {
        // The key makes a retry after a lost commit answer find the run the first attempt stored instead of adding a second.
        var key = Guid.NewGuid();
        return InTransactionAsync(async (c, tx, _, t) =>
        {
            await using var cmd = Command(c, tx, $"""
                WITH ins AS (
                    INSERT INTO runs (name, status, spec_json, method, dataset, bits, created_at, sweep_id, create_key)
                    VALUES (@name, @status, @spec, @method, @dataset, @bits, @created, NULL, @key)
                    ON CONFLICT (create_key) DO NOTHING
                    RETURNING *)
                SELECT {RunColumns} FROM ins
                UNION ALL SELECT {RunColumns} FROM runs WHERE create_key = @key;
                """);
            AddRunValues(cmd, run);
            cmd.Parameters.AddWithValue("key", key);
            return (await ReadRunsAsync(cmd, t)).Single();
        }, ct);
    }

    public Task<(SweepRecord Sweep, IReadOnlyList<RunRecord> Runs)> CreateSweepAsync(NewSweep sweep, IReadOnlyList<NewRun> runs,
        CancellationToken ct = default)
    {
        var key = Guid.NewGuid();
        return InTransactionAsync(async (c, tx, attempt, t) =>
        {
            long? sweepId = null;
            if (attempt > 1)
            {
                await using var find = Command(c, tx, "SELECT id FROM sweeps WHERE create_key = @key;");
                find.Parameters.AddWithValue("key", key);
                sweepId = (long?)await find.ExecuteScalarAsync(t);
            }
            if (sweepId is null)
            {
                await using (var cmd = Command(c, tx,
                    "INSERT INTO sweeps (name, spec_json, axes_json, created_at, create_key) VALUES (@name, @spec, @axes, @created, @key) RETURNING id;"))
                {
                    cmd.Parameters.AddWithValue("name", sweep.Name);
                    cmd.Parameters.AddWithValue("spec", sweep.SpecJson);
                    cmd.Parameters.AddWithValue("axes", sweep.AxesJson);
                    cmd.Parameters.AddWithValue("created", sweep.CreatedAt.ToUniversalTime());
                    cmd.Parameters.AddWithValue("key", key);
                    sweepId = (long)(await cmd.ExecuteScalarAsync(t))!;
                }
                foreach (var run in runs)
                {
                    await using var insert = Command(c, tx, """
                        INSERT INTO runs (name, status, spec_json, method, dataset, bits, created_at, sweep_id)
                        VALUES (@name, @status, @spec, @method, @dataset, @bits, @created, @sweep);
                        """);
                    AddRunValues(insert, run);
                    insert.Parameters.AddWithValue("sweep", sweepId.Value);
                    await insert.ExecuteNonQueryAsync(t);
                }
            }
            var stored = (await GetSweepAsync(c, tx, sweepId.Value, t))!;
            return (stored, await ListSweepRunsAsync(c, tx, sweepId.Value, t));
        }, ct);
    }

    public Task<SweepRecord?> GetSweepAsync(long id, CancellationToken ct = default) =>
        WithConnectionAsync((c, t) => GetSweepAsync(c, null, id, t), ct);

    public Task<IReadOnlyList<SweepRecord>> ListSweepsAsync(CancellationToken ct = default) =>
        WithConnectionAsync(async (c, t) =>
        {
            await using var cmd = Command(c, null, $"SELECT {SweepColumns} FROM sweeps ORDER BY id DESC;");
            var list = new List<SweepRecord>();
            await using var r = await cmd.ExecuteReaderAsync(t);
            while (await r.ReadAsync(t))
                list.Add(ReadSweep(r));
            return (IReadOnlyList<SweepRecord>)list;
        }, ct);

    public Task<IReadOnlyList<RunRecord>> ListSweepRunsAsync(long sweepId, CancellationToken ct = default) =>
        WithConnectionAsync((c, t) => ListSweepRunsAsync(c, null, sweepId, t), ct);

    public Task<RunRecord?> GetRunAsync(long id, CancellationToken ct = default) =>
        WithConnectionAsync((c, t) => GetRunAsync(c, null, id, false, t), ct);

    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(CancellationToken ct = default) =>
        WithConnectionAsync(async (c, t) =>
        {
            await using var cmd = Command(c, null, $"SELECT {RunColumns} FROM runs ORDER BY id DESC;");
            return await ReadRunsAsync(cmd, t);
        }, ct);

    public Task<bool> DeleteRunAsync(long id, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, _, t) =>
        {
            await using (var events = Command(c, tx, "DELETE FROM events WHERE run_id = @id;"))
            {
                events.Parameters.AddWithValue("id", id);
                await events.ExecuteNonQueryAsync(t);
            }
            await using var run = Command(c, tx, "DELETE FROM runs WHERE id = @id;");
            run.Parameters.AddWithValue("id", id);
            return await run.ExecuteNonQueryAsync(t) > 0;
        }, ct);

    public Task<bool> TryTransitionAsync(long id, IReadOnlyCollection<RunStatus> from, RunTransition to, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, attempt, t) =>
        {
            if (await TransitionAsync(c, tx, id, from, to, t))
                return true;
            // A retry finds the run moved already: when it stands where this transition leads, the lost commit was ours.
            return attempt > 1 && (await GetRunAsync(c, tx, id, false, t))?.Status == to.Status;
        }, ct);

    public Task UpdateSummaryAsync(long id, IReadOnlyDictionary<string, double> values, CancellationToken ct = default)
    {
        if (values.Count == 0)
            return Task.CompletedTask;
        var json = JsonSerializer.Serialize(values, RunEventJson.Options);
        // Merged in one statement, so two processes adding different keys at once both keep theirs.
        return InTransactionAsync(async (c, tx, _, t) =>
        {
            await using var cmd = Command(c, tx, "UPDATE runs SET summary = summary || @values::jsonb WHERE id = @id;");
            cmd.Parameters.AddWithValue("values", json);
            cmd.Parameters.AddWithValue("id", id);
            return await cmd.ExecuteNonQueryAsync(t);
        }, ct);
    }

    public Task AppendEventAsync(StoredEvent e, RunTransition? completion = null, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, _, t) =>
        {
            await InsertEventAsync(c, tx, e, t);
            if (completion is not null)
                await TransitionAsync(c, tx, e.RunId, [RunStatus.Queued, RunStatus.Running], completion, t);
            return true;
        }, ct);

    public Task<bool> TryCompleteAsync(StoredEvent e, IReadOnlyCollection<RunStatus> from, RunTransition completion,
        CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, attempt, t) =>
        {
            // The event and the status change commit together, so finding the event means an earlier attempt did both.
            if (attempt > 1 && await FindEventAsync(c, tx, e.RunId, e.Seq, t) is { } earlier && SameEvent(earlier, e))
                return true;
            if (!await TransitionAsync(c, tx, e.RunId, from, completion, t))
                return false; // nothing changed, nothing stored
            await InsertEventAsync(c, tx, e, t);
            return true;
        }, ct);

    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long runId, long afterSeq, int limit, IReadOnlyCollection<string>? types = null,
        CancellationToken ct = default) =>
        WithConnectionAsync(async (c, t) =>
        {
            var typeFilter = types is { Count: > 0 } ? " AND type = ANY(@types)" : "";
            await using var cmd = Command(c, null,
                $"SELECT run_id, seq, type, time, json FROM events WHERE run_id = @run AND seq > @after{typeFilter} ORDER BY seq LIMIT @limit;");
            cmd.Parameters.AddWithValue("run", runId);
            cmd.Parameters.AddWithValue("after", afterSeq);
            // As in SQLite, a negative limit means no limit.
            cmd.Parameters.AddWithValue("limit", limit < 0 ? DBNull.Value : limit);
            if (types is { Count: > 0 })
                cmd.Parameters.AddWithValue("types", types.ToArray());
            var list = new List<StoredEvent>();
            await using var r = await cmd.ExecuteReaderAsync(t);
            while (await r.ReadAsync(t))
                list.Add(ReadEvent(r));
            return (IReadOnlyList<StoredEvent>)list;
        }, ct);

    public Task<StoredEvent?> GetLatestEventAsync(long runId, string type, CancellationToken ct = default) =>
        WithConnectionAsync(async (c, t) =>
        {
            await using var cmd = Command(c, null,
                "SELECT run_id, seq, type, time, json FROM events WHERE run_id = @run AND type = @type ORDER BY seq DESC LIMIT 1;");
            cmd.Parameters.AddWithValue("run", runId);
            cmd.Parameters.AddWithValue("type", type);
            await using var r = await cmd.ExecuteReaderAsync(t);
            return await r.ReadAsync(t) ? ReadEvent(r) : null;
        }, ct);

    public Task<long> GetLastSeqAsync(long runId, CancellationToken ct = default) =>
        WithConnectionAsync((c, t) => LastSeqAsync(c, null, runId, t), ct);

    /// <summary>
    /// Marks as interrupted the runs left running by a process that is gone, each with a stored <c>run_cancelled</c> event.
    /// Distributed: a web node starting must not end the runs that live workers train, so only a running run with no worker
    /// or whose heartbeat is older than <see cref="PostgresStoreOptions.HeartbeatStaleAfter"/> (before <paramref name="at"/>)
    /// counts as left; the worker of such a run, should it come back, finds its heartbeat refused.
    /// </summary>
    public Task<IReadOnlyList<long>> MarkRunningAsInterruptedAsync(DateTimeOffset at, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, _, t) =>
        {
            var ids = new List<long>();
            await using (var find = Command(c, tx, """
                SELECT id FROM runs
                WHERE status = @running AND (worker IS NULL OR heartbeat_at IS NULL OR heartbeat_at < @cutoff)
                ORDER BY id FOR UPDATE;
                """))
            {
                find.Parameters.AddWithValue("running", RunStatus.Running.ToName());
                find.Parameters.AddWithValue("cutoff", (at - options.HeartbeatStaleAfter).ToUniversalTime());
                await using var r = await find.ExecuteReaderAsync(t);
                while (await r.ReadAsync(t))
                    ids.Add(r.GetInt64(0));
            }
            foreach (var id in ids)
            {
                var last = await LastSeqAsync(c, tx, id, t);
                var e = StoredEvent.From(id, new RunCancelled(SqliteRunStore.InterruptedReason) { Seq = last + 1, Time = at });
                await InsertEventAsync(c, tx, e, t);
                await TransitionAsync(c, tx, id, [RunStatus.Running],
                    new RunTransition(RunStatus.Interrupted) { FinishedAt = at, LastError = SqliteRunStore.InterruptedReason }, t);
            }
            return (IReadOnlyList<long>)ids;
        }, ct);
}
