using System.Text.Json;
using Npgsql;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Core.Runs;

/// <summary>The statements the store's operations share, and how rows become records.</summary>
public sealed partial class PostgresRunStore
{
    private const string RunColumns =
        "id, name, status, spec_json, method, dataset, bits, created_at, started_at, finished_at, summary::text, last_error, resume, sweep_id";

    private const string SweepColumns = "id, name, spec_json, axes_json, created_at";

    /// <summary>One attempt = one connection and one transaction, committed when <paramref name="work"/> returns.</summary>
    private Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, int, CancellationToken, Task<T>> work, CancellationToken ct) =>
        retry.RunAsync(async (attempt, t) =>
        {
            await using var c = await dataSource.OpenConnectionAsync(t);
            await using var tx = await c.BeginTransactionAsync(t);
            var result = await work(c, tx, attempt, t);
            await tx.CommitAsync(t);
            return result;
        }, ct);

    private Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken ct) =>
        retry.RunAsync(async (_, t) =>
        {
            await using var c = await dataSource.OpenConnectionAsync(t);
            return await work(c, t);
        }, ct);

    private static NpgsqlCommand Command(NpgsqlConnection c, NpgsqlTransaction? tx, string sql) => new(sql, c, tx);

    private static void AddRunValues(NpgsqlCommand cmd, NewRun run)
    {
        cmd.Parameters.AddWithValue("name", run.Name);
        cmd.Parameters.AddWithValue("status", RunStatus.Queued.ToName());
        cmd.Parameters.AddWithValue("spec", SpecJson.Write(run.Spec));
        cmd.Parameters.AddWithValue("method", run.Spec.Method);
        cmd.Parameters.AddWithValue("dataset", run.Spec.Dataset.Name);
        cmd.Parameters.AddWithValue("bits", Methods.Quantizes(run.Spec.Method) ? run.Spec.Quantization.Bits : DBNull.Value);
        cmd.Parameters.AddWithValue("created", run.CreatedAt.ToUniversalTime());
    }

    private static async Task<RunRecord?> GetRunAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long id, bool forUpdate, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, $"SELECT {RunColumns} FROM runs WHERE id = @id{(forUpdate ? " FOR UPDATE" : "")};");
        cmd.Parameters.AddWithValue("id", id);
        return (await ReadRunsAsync(cmd, ct)).SingleOrDefault();
    }

    private static async Task<SweepRecord?> GetSweepAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long id, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, $"SELECT {SweepColumns} FROM sweeps WHERE id = @id;");
        cmd.Parameters.AddWithValue("id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadSweep(r) : null;
    }

    private static async Task<IReadOnlyList<RunRecord>> ListSweepRunsAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long sweepId,
        CancellationToken ct)
    {
        await using var cmd = Command(c, tx, $"SELECT {RunColumns} FROM runs WHERE sweep_id = @sweep ORDER BY id;");
        cmd.Parameters.AddWithValue("sweep", sweepId);
        return await ReadRunsAsync(cmd, ct);
    }

    private static async Task<long> LastSeqAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long runId, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = @run;");
        cmd.Parameters.AddWithValue("run", runId);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task<bool> TransitionAsync(NpgsqlConnection c, NpgsqlTransaction tx, long id, IReadOnlyCollection<RunStatus> from,
        RunTransition to, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "");
        var sets = new List<string> { "status = @to" };
        cmd.Parameters.AddWithValue("to", to.Status.ToName());
        if (to.StartedAt is { } s)
        {
            sets.Add("started_at = @started");
            cmd.Parameters.AddWithValue("started", s.ToUniversalTime());
        }
        if (to.ClearFinish)
            sets.Add("finished_at = NULL, last_error = NULL");
        if (to.FinishedAt is { } f)
        {
            sets.Add("finished_at = @finished");
            cmd.Parameters.AddWithValue("finished", f.ToUniversalTime());
        }
        if (to.LastError is { } err)
        {
            sets.Add("last_error = @error");
            cmd.Parameters.AddWithValue("error", err);
        }
        if (to.Resume is { } resume)
        {
            sets.Add("resume = @resume");
            cmd.Parameters.AddWithValue("resume", resume);
        }
        if (to.Status == RunStatus.Queued)
            sets.Add("attempts = 0, worker = NULL, heartbeat_at = NULL, cancel_requested = false");
        cmd.CommandText = $"UPDATE runs SET {string.Join(", ", sets)} WHERE id = @id AND status = ANY(@from);";
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("from", from.Select(st => st.ToName()).ToArray());
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// Stores the event; when the run already has one with this seq, an identical one (a retry of a commit whose answer was
    /// lost) counts as stored and a different one is refused.
    /// </summary>
    private static async Task InsertEventAsync(NpgsqlConnection c, NpgsqlTransaction tx, StoredEvent e, CancellationToken ct)
    {
        await using (var cmd = Command(c, tx,
            "INSERT INTO events (run_id, seq, type, time, json) VALUES (@run, @seq, @type, @time, @json) ON CONFLICT (run_id, seq) DO NOTHING;"))
        {
            cmd.Parameters.AddWithValue("run", e.RunId);
            cmd.Parameters.AddWithValue("seq", e.Seq);
            cmd.Parameters.AddWithValue("type", e.Type);
            cmd.Parameters.AddWithValue("time", e.Time.ToUniversalTime());
            cmd.Parameters.AddWithValue("json", e.Json);
            if (await cmd.ExecuteNonQueryAsync(ct) > 0)
                return;
        }
        var stored = await FindEventAsync(c, tx, e.RunId, e.Seq, ct);
        if (stored is not null && !SameEvent(stored, e))
            throw new InvalidOperationException(
                $"run {e.RunId} already has a different event with seq {e.Seq} (stored: {stored.Type}, new: {e.Type})");
    }

    private static async Task<StoredEvent?> FindEventAsync(NpgsqlConnection c, NpgsqlTransaction tx, long runId, long seq, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT run_id, seq, type, time, json FROM events WHERE run_id = @run AND seq = @seq;");
        cmd.Parameters.AddWithValue("run", runId);
        cmd.Parameters.AddWithValue("seq", seq);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadEvent(r) : null;
    }

    private static bool SameEvent(StoredEvent stored, StoredEvent e) =>
        stored.Type == e.Type && stored.Json == e.Json && stored.Time == ToMicroseconds(e.Time);

    /// <summary>The time as PostgreSQL keeps it (timestamptz counts microseconds).</summary>
    internal static DateTimeOffset ToMicroseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    private static async Task<IReadOnlyList<RunRecord>> ReadRunsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<RunRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(ReadRun(r));
        return list;
    }

    private static RunRecord ReadRun(NpgsqlDataReader r) => new(
        Id: r.GetInt64(0),
        Name: r.GetString(1),
        Status: RunStatusNames.Parse(r.GetString(2)),
        SpecJson: r.GetString(3),
        Method: r.GetString(4),
        Dataset: r.GetString(5),
        Bits: r.IsDBNull(6) ? null : r.GetInt32(6),
        CreatedAt: r.GetFieldValue<DateTimeOffset>(7),
        StartedAt: r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8),
        FinishedAt: r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
        Summary: ParseSummary(r.GetString(10)),
        LastError: r.IsDBNull(11) ? null : r.GetString(11),
        Resume: r.GetBoolean(12),
        SweepId: r.IsDBNull(13) ? null : r.GetInt64(13));

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

    private static SweepRecord ReadSweep(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4));

    private static StoredEvent ReadEvent(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetString(4));
}
