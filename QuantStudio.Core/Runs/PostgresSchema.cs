using Npgsql;

namespace QuantStudio.Core.Runs;

/// <summary>
/// The shared store's tables, and the triggers that tell listeners of every change (LISTEN/NOTIFY, sent when the changing
/// transaction commits, so a listener never hears of a change it cannot read yet).
/// </summary>
public static class PostgresSchema
{
    /// <summary>Channel of stored events; payload <c>runId:seq</c>.</summary>
    public const string EventsChannel = "quantstudio_events";

    /// <summary>Channel of runs created, changed (status, summary, holder) or deleted; payload the run's id. Heartbeats alone are not sent.</summary>
    public const string RunsChannel = "quantstudio_runs";

    /// <summary>Channel of cancel requests; payload the run's id.</summary>
    public const string CancelChannel = "quantstudio_cancel";

    // Any fixed number: every process that creates the schema takes the same transaction-scoped advisory lock first, so
    // processes that start together create it one after the other instead of failing on each other's half-made tables.
    private const long SchemaLockKey = 0x5153_5354_4F52_4531; // "QSSTORE1"

    /// <summary>
    /// Brings the database's schema up to date; safe when several processes start at once, and cheap when the schema is
    /// current (no table is locked then).
    /// </summary>
    public static async Task EnsureAsync(NpgsqlConnection c, CancellationToken ct)
    {
        await using var tx = await c.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key);", c, tx))
        {
            lockCmd.Parameters.AddWithValue("key", SchemaLockKey);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        int version;
        await using (var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS quantstudio_schema (version integer NOT NULL);", c, tx))
            await cmd.ExecuteNonQueryAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM quantstudio_schema;", c, tx))
            version = (int)(await cmd.ExecuteScalarAsync(ct))!;
        for (var v = version; v < Migrations.Length; v++)
        {
            await using var cmd = new NpgsqlCommand(Migrations[v], c, tx);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (version < Migrations.Length)
        {
            await using var cmd = new NpgsqlCommand("DELETE FROM quantstudio_schema; INSERT INTO quantstudio_schema (version) VALUES (@v);", c, tx);
            cmd.Parameters.AddWithValue("v", Migrations.Length);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>The schema's versions in order: a database at version n gets the steps from n on. Append, never edit.</summary>
    private static readonly string[] Migrations = [Version1];

    private const string Version1 = $$"""
        CREATE TABLE sweeps (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            spec_json text NOT NULL,
            axes_json text NOT NULL,
            created_at timestamptz NOT NULL,
            create_key uuid NULL UNIQUE
        );
        CREATE TABLE runs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            status text NOT NULL,
            spec_json text NOT NULL,
            method text NOT NULL,
            dataset text NOT NULL,
            bits integer NULL,
            created_at timestamptz NOT NULL,
            started_at timestamptz NULL,
            finished_at timestamptz NULL,
            summary jsonb NOT NULL DEFAULT '{}',
            last_error text NULL,
            resume boolean NOT NULL DEFAULT false,
            sweep_id bigint NULL REFERENCES sweeps (id) ON DELETE SET NULL,
            attempts integer NOT NULL DEFAULT 0,
            worker text NULL,
            heartbeat_at timestamptz NULL,
            cancel_requested boolean NOT NULL DEFAULT false,
            create_key uuid NULL UNIQUE
        );
        CREATE INDEX runs_by_sweep ON runs (sweep_id, id);
        CREATE INDEX runs_by_status ON runs (status, id);
        -- The event's JSON is kept as text, byte for byte as written: jsonb would reorder its keys.
        CREATE TABLE events (
            run_id bigint NOT NULL,
            seq bigint NOT NULL,
            type text NOT NULL,
            time timestamptz NOT NULL,
            json text NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX events_by_type ON events (run_id, type, seq);
        -- A run's file: its row, and its content in chunks (written and read a chunk at a time, so neither side holds a
        -- whole checkpoint in memory). A replace rewrites both in one transaction: a reader's single query sees one version.
        CREATE TABLE artifacts (
            run_id bigint NOT NULL,
            name text NOT NULL,
            length bigint NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (run_id, name)
        );
        CREATE TABLE artifact_chunks (
            run_id bigint NOT NULL,
            name text NOT NULL,
            idx integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (run_id, name, idx),
            FOREIGN KEY (run_id, name) REFERENCES artifacts (run_id, name) ON DELETE CASCADE
        );
        -- Checkpoints and models hardly compress: store them out of line without trying.
        ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

        CREATE FUNCTION quantstudio_notify_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_notify('{{EventsChannel}}', NEW.run_id::text || ':' || NEW.seq::text);
            RETURN NULL;
        END $fn$;
        CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION quantstudio_notify_event();

        CREATE FUNCTION quantstudio_notify_run() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('{{RunsChannel}}', OLD.id::text);
                RETURN NULL;
            END IF;
            IF TG_OP = 'UPDATE' AND NEW.cancel_requested AND NOT OLD.cancel_requested THEN
                PERFORM pg_notify('{{CancelChannel}}', NEW.id::text);
            END IF;
            IF TG_OP = 'INSERT'
               OR (to_jsonb(NEW) - 'heartbeat_at' - 'cancel_requested') IS DISTINCT FROM (to_jsonb(OLD) - 'heartbeat_at' - 'cancel_requested') THEN
                PERFORM pg_notify('{{RunsChannel}}', NEW.id::text);
            END IF;
            RETURN NULL;
        END $fn$;
        CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE OR DELETE ON runs FOR EACH ROW EXECUTE FUNCTION quantstudio_notify_run();
        """;
}
