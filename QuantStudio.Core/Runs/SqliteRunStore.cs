using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>
/// The embedded store: data/quantstudio.db in WAL mode (readers never block the writer), one pooled
/// connection per operation, so it is safe from any thread.
/// </summary>
public sealed class SqliteRunStore : IRunStore
{
    private readonly string connectionString;

    public SqliteRunStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await ExecAsync(c, "PRAGMA journal_mode=WAL;", ct);
        await ExecAsync(c, """
            CREATE TABLE IF NOT EXISTS runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                method TEXT NOT NULL,
                dataset TEXT NOT NULL,
                bits INTEGER NULL,
                created_at TEXT NOT NULL,
                started_at TEXT NULL,
                finished_at TEXT NULL,
                summary_json TEXT NOT NULL DEFAULT '{}',
                last_error TEXT NULL,
                resume INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS events (
                run_id INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                type TEXT NOT NULL,
                time TEXT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS events_by_type ON events (run_id, type, seq);
            CREATE TABLE IF NOT EXISTS sweeps (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                axes_json TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            """, ct);
        // Databases made before sweeps existed lack the column.
        if (!await HasColumnAsync(c, "runs", "sweep_id", ct))
            await ExecAsync(c, "ALTER TABLE runs ADD COLUMN sweep_id INTEGER NULL;", ct);
        await ExecAsync(c, "CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep_id, id);", ct);
    }

    private static async Task<bool> HasColumnAsync(SqliteConnection c, string table, string column, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column;";
        cmd.Parameters.AddWithValue("$column", column);
        return (long)(await cmd.ExecuteScalarAsync(ct))! > 0;
    }

    public async Task<RunRecord> CreateRunAsync(NewRun run, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var id = await InsertRunAsync(c, null, run, null, ct);
        return (await GetRunAsync(c, id, ct))!;
    }

    public async Task<(SweepRecord Sweep, IReadOnlyList<RunRecord> Runs)> CreateSweepAsync(NewSweep sweep, IReadOnlyList<NewRun> runs,
        CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        long sweepId;
        await using (var cmd = c.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO sweeps (name, spec_json, axes_json, created_at) VALUES ($name, $spec, $axes, $created) RETURNING id;";
            cmd.Parameters.AddWithValue("$name", sweep.Name);
            cmd.Parameters.AddWithValue("$spec", sweep.SpecJson);
            cmd.Parameters.AddWithValue("$axes", sweep.AxesJson);
            cmd.Parameters.AddWithValue("$created", Format(sweep.CreatedAt));
            sweepId = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        foreach (var run in runs)
            await InsertRunAsync(c, tx, run, sweepId, ct);
        await tx.CommitAsync(ct);
        return ((await GetSweepAsync(sweepId, ct))!, await ListSweepRunsAsync(sweepId, ct));
    }

    public async Task<SweepRecord?> GetSweepAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {SweepColumns} FROM sweeps WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadSweep(r) : null;
    }

    public async Task<IReadOnlyList<SweepRecord>> ListSweepsAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {SweepColumns} FROM sweeps ORDER BY id DESC;";
        var list = new List<SweepRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(ReadSweep(r));
        return list;
    }

    public async Task<IReadOnlyList<RunRecord>> ListSweepRunsAsync(long sweepId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {RunColumns} FROM runs WHERE sweep_id = $sweep ORDER BY id;";
        cmd.Parameters.AddWithValue("$sweep", sweepId);
        var list = new List<RunRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(ReadRun(r));
        return list;
    }

    private static async Task<long> InsertRunAsync(SqliteConnection c, SqliteTransaction? tx, NewRun run, long? sweepId, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO runs (name, status, spec_json, method, dataset, bits, created_at, sweep_id)
            VALUES ($name, $status, $spec, $method, $dataset, $bits, $created, $sweep)
            RETURNING id;
            """;
        cmd.Parameters.AddWithValue("$name", run.Name);
        cmd.Parameters.AddWithValue("$status", RunStatus.Queued.ToName());
        cmd.Parameters.AddWithValue("$spec", SpecJson.Write(run.Spec));
        cmd.Parameters.AddWithValue("$method", run.Spec.Method);
        cmd.Parameters.AddWithValue("$dataset", run.Spec.Dataset.Name);
        cmd.Parameters.AddWithValue("$bits", Methods.Quantizes(run.Spec.Method) ? run.Spec.Quantization.Bits : DBNull.Value);
        cmd.Parameters.AddWithValue("$created", Format(run.CreatedAt));
        cmd.Parameters.AddWithValue("$sweep", sweepId is { } s ? s : DBNull.Value);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task<RunRecord?> GetRunAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await GetRunAsync(c, id, ct);
    }

    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {RunColumns} FROM runs ORDER BY id DESC;";
        var list = new List<RunRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(ReadRun(r));
        return list;
    }

    public async Task<bool> DeleteRunAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "DELETE FROM events WHERE run_id = $id; DELETE FROM runs WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        await cmd.ExecuteNonQueryAsync(ct);
        await using var changes = c.CreateCommand();
        changes.Transaction = tx;
        changes.CommandText = "SELECT changes();";
        var deleted = (long)(await changes.ExecuteScalarAsync(ct))! > 0;
        await tx.CommitAsync(ct);
        return deleted;
    }

    public async Task<bool> TryTransitionAsync(long id, IReadOnlyCollection<RunStatus> from, RunTransition to, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await TransitionAsync(c, null, id, from, to, ct);
    }

    public async Task UpdateSummaryAsync(long id, IReadOnlyDictionary<string, double> values, CancellationToken ct = default)
    {
        if (values.Count == 0)
            return;
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        await MergeSummaryAsync(c, tx, id, values, ct);
        await tx.CommitAsync(ct);
    }

    public async Task AppendEventAsync(StoredEvent e, RunTransition? completion = null, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        await InsertEventAsync(c, tx, e, ct);
        if (completion is not null)
            await TransitionAsync(c, tx, e.RunId, [RunStatus.Queued, RunStatus.Running], completion, ct);
        await tx.CommitAsync(ct);
    }

    public async Task<bool> TryCompleteAsync(StoredEvent e, IReadOnlyCollection<RunStatus> from, RunTransition completion,
        CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        if (!await TransitionAsync(c, tx, e.RunId, from, completion, ct))
            return false; // disposing the transaction rolls it back
        await InsertEventAsync(c, tx, e, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long runId, long afterSeq, int limit, IReadOnlyCollection<string>? types = null,
        CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        var typeFilter = "";
        if (types is { Count: > 0 })
        {
            var names = new List<string>();
            var i = 0;
            foreach (var t in types)
            {
                var p = "$t" + i++;
                names.Add(p);
                cmd.Parameters.AddWithValue(p, t);
            }
            typeFilter = $" AND type IN ({string.Join(", ", names)})";
        }
        cmd.CommandText = $"SELECT run_id, seq, type, time, json FROM events WHERE run_id = $run AND seq > $after{typeFilter} ORDER BY seq LIMIT $limit;";
        cmd.Parameters.AddWithValue("$run", runId);
        cmd.Parameters.AddWithValue("$after", afterSeq);
        cmd.Parameters.AddWithValue("$limit", limit);
        var list = new List<StoredEvent>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(ReadEvent(r));
        return list;
    }

    public async Task<StoredEvent?> GetLatestEventAsync(long runId, string type, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT run_id, seq, type, time, json FROM events WHERE run_id = $run AND type = $type ORDER BY seq DESC LIMIT 1;";
        cmd.Parameters.AddWithValue("$run", runId);
        cmd.Parameters.AddWithValue("$type", type);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadEvent(r) : null;
    }

    public async Task<long> GetLastSeqAsync(long runId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = $run;";
        cmd.Parameters.AddWithValue("$run", runId);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task<IReadOnlyList<long>> MarkRunningAsInterruptedAsync(DateTimeOffset at, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(ct);
        var ids = new List<long>();
        await using (var find = c.CreateCommand())
        {
            find.Transaction = tx;
            find.CommandText = "SELECT id FROM runs WHERE status = $running ORDER BY id;";
            find.Parameters.AddWithValue("$running", RunStatus.Running.ToName());
            await using var r = await find.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                ids.Add(r.GetInt64(0));
        }
        foreach (var id in ids)
        {
            // The interruption is an event like any other end, so a follower sees the run end and a resume numbers on after it.
            long last;
            await using (var seq = c.CreateCommand())
            {
                seq.Transaction = tx;
                seq.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = $id;";
                seq.Parameters.AddWithValue("$id", id);
                last = (long)(await seq.ExecuteScalarAsync(ct))!;
            }
            var e = StoredEvent.From(id, new RunCancelled(InterruptedReason) { Seq = last + 1, Time = at });
            await InsertEventAsync(c, tx, e, ct);
            await TransitionAsync(c, tx, id, [RunStatus.Running],
                new RunTransition(RunStatus.Interrupted) { FinishedAt = at, LastError = InterruptedReason }, ct);
        }
        await tx.CommitAsync(ct);
        return ids;
    }

    /// <summary>The reason stored with a run found running when the server starts: the process that ran it ended without finishing it.</summary>
    public const string InterruptedReason = "the server stopped while the run was training; resume the run to continue from its last checkpoint";

    private const string RunColumns =
        "id, name, status, spec_json, method, dataset, bits, created_at, started_at, finished_at, summary_json, last_error, resume, sweep_id";

    private const string SweepColumns = "id, name, spec_json, axes_json, created_at";

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(connectionString);
        await c.OpenAsync(ct);
        // Per connection: WAL makes NORMAL durable across application crashes (only an OS crash can lose the last commits).
        await ExecAsync(c, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", ct);
        return c;
    }

    private static async Task ExecAsync(SqliteConnection c, string sql, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task InsertEventAsync(SqliteConnection c, SqliteTransaction tx, StoredEvent e, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO events (run_id, seq, type, time, json) VALUES ($run, $seq, $type, $time, $json);";
        cmd.Parameters.AddWithValue("$run", e.RunId);
        cmd.Parameters.AddWithValue("$seq", e.Seq);
        cmd.Parameters.AddWithValue("$type", e.Type);
        cmd.Parameters.AddWithValue("$time", Format(e.Time));
        cmd.Parameters.AddWithValue("$json", e.Json);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<RunRecord?> GetRunAsync(SqliteConnection c, long id, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {RunColumns} FROM runs WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadRun(r) : null;
    }

    private static async Task<bool> TransitionAsync(SqliteConnection c, SqliteTransaction? tx, long id, IReadOnlyCollection<RunStatus> from,
        RunTransition to, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        var sets = new List<string> { "status = $to" };
        cmd.Parameters.AddWithValue("$to", to.Status.ToName());
        if (to.StartedAt is { } s)
        {
            sets.Add("started_at = $started");
            cmd.Parameters.AddWithValue("$started", Format(s));
        }
        if (to.ClearFinish)
            sets.Add("finished_at = NULL, last_error = NULL");
        if (to.FinishedAt is { } f)
        {
            sets.Add("finished_at = $finished");
            cmd.Parameters.AddWithValue("$finished", Format(f));
        }
        if (to.LastError is { } err)
        {
            sets.Add("last_error = $error");
            cmd.Parameters.AddWithValue("$error", err);
        }
        if (to.Resume is { } resume)
        {
            sets.Add("resume = $resume");
            cmd.Parameters.AddWithValue("$resume", resume ? 1 : 0);
        }
        var allowed = new List<string>();
        var i = 0;
        foreach (var st in from)
        {
            var p = "$from" + i++;
            allowed.Add(p);
            cmd.Parameters.AddWithValue(p, st.ToName());
        }
        cmd.CommandText = $"UPDATE runs SET {string.Join(", ", sets)} WHERE id = $id AND status IN ({string.Join(", ", allowed)});";
        cmd.Parameters.AddWithValue("$id", id);
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    private static async Task MergeSummaryAsync(SqliteConnection c, SqliteTransaction tx, long id, IReadOnlyDictionary<string, double> values,
        CancellationToken ct)
    {
        string? current;
        await using (var get = c.CreateCommand())
        {
            get.Transaction = tx;
            get.CommandText = "SELECT summary_json FROM runs WHERE id = $id;";
            get.Parameters.AddWithValue("$id", id);
            current = (string?)await get.ExecuteScalarAsync(ct);
        }
        if (current is null)
            return;
        var merged = ParseSummary(current);
        foreach (var (k, v) in values)
            merged[k] = v;
        await using var set = c.CreateCommand();
        set.Transaction = tx;
        set.CommandText = "UPDATE runs SET summary_json = $json WHERE id = $id;";
        set.Parameters.AddWithValue("$json", JsonSerializer.Serialize(merged, RunEventJson.Options));
        set.Parameters.AddWithValue("$id", id);
        await set.ExecuteNonQueryAsync(ct);
    }

    private static Dictionary<string, double> ParseSummary(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, double>>(json, RunEventJson.Options) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static RunRecord ReadRun(SqliteDataReader r) => new(
        Id: r.GetInt64(0),
        Name: r.GetString(1),
        Status: RunStatusNames.Parse(r.GetString(2)),
        SpecJson: r.GetString(3),
        Method: r.GetString(4),
        Dataset: r.GetString(5),
        Bits: r.IsDBNull(6) ? null : r.GetInt32(6),
        CreatedAt: ParseTime(r.GetString(7)),
        StartedAt: r.IsDBNull(8) ? null : ParseTime(r.GetString(8)),
        FinishedAt: r.IsDBNull(9) ? null : ParseTime(r.GetString(9)),
        Summary: ParseSummary(r.GetString(10)),
        LastError: r.IsDBNull(11) ? null : r.GetString(11),
        Resume: r.GetInt64(12) != 0,
        SweepId: r.IsDBNull(13) ? null : r.GetInt64(13));

    private static SweepRecord ReadSweep(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), ParseTime(r.GetString(4)));

    private static StoredEvent ReadEvent(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), ParseTime(r.GetString(3)), r.GetString(4));

    private static string Format(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
