using Npgsql;

namespace QuantStudio.Tests.Runs;

/// <summary>
/// A PostgreSQL database of its own for one test class (use it as <c>IClassFixture&lt;PostgresTestDatabase&gt;</c>): created
/// with a unique name on the server named by QUANTSTUDIO_TEST_POSTGRES (default: the local test server) and dropped at the end.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncLifetime
{
    public const string EnvironmentVariable = "QUANTSTUDIO_TEST_POSTGRES";
    public const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=quantstudio;Password=quantstudio;Database=postgres";

    public PostgresTestDatabase()
        : this(Environment.GetEnvironmentVariable(EnvironmentVariable) is { } server && !string.IsNullOrWhiteSpace(server) ? server : DefaultServer)
    {
    }

    private PostgresTestDatabase(string adminConnectionString)
    {
        AdminConnectionString = adminConnectionString;
        DatabaseName = "qs_test_" + Guid.NewGuid().ToString("N")[..16];
        ConnectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = DatabaseName }.ConnectionString;
    }

    /// <summary>A database of its own on another server (a test's own cluster, say), created before it returns.</summary>
    public static async Task<PostgresTestDatabase> CreateOnAsync(string adminConnectionString)
    {
        var db = new PostgresTestDatabase(adminConnectionString);
        await db.InitializeAsync();
        return db;
    }

    /// <summary>The server's maintenance database: where this database is created, dropped and its connections ended.</summary>
    public string AdminConnectionString { get; }

    public string DatabaseName { get; }

    /// <summary>This test class's database.</summary>
    public string ConnectionString { get; }

    /// <summary>Store options on this database; a short retry window keeps a failing test from hanging for a minute.</summary>
    public PostgresStoreOptions StoreOptions(TimeSpan? retryFor = null) =>
        new() { ConnectionString = ConnectionString, RetryFor = retryFor ?? TimeSpan.FromSeconds(20) };

    /// <summary>A connection string to this database with a distinct application name (to find its connections, say).</summary>
    public string ConnectionStringFor(string applicationName) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { ApplicationName = applicationName }.ConnectionString;

    /// <summary>
    /// An open connection to this database outside any pool, for a test's own checks: unlike a pooled one it cannot be
    /// a connection that <see cref="TerminateConnectionsAsync"/> ended.
    /// </summary>
    public async Task<NpgsqlConnection> OpenConnectionAsync()
    {
        var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        return c;
    }

    public async Task InitializeAsync()
    {
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\";", c);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE);", c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Empties the store's tables (when they exist), so each test of a class starts from an empty store.</summary>
    public async Task ResetAsync()
    {
        await using var c = await OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            DO $$ BEGIN
                IF to_regclass('runs') IS NOT NULL THEN
                    TRUNCATE events, runs, sweeps, artifact_chunks, artifacts RESTART IDENTITY;
                END IF;
            END $$;
            """, c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Ends the server processes of this database's connections (all of them, or those of one application name), as a
    /// server restart would: the clients' next use of those connections fails. Returns how many were ended.
    /// </summary>
    public async Task<int> TerminateConnectionsAsync(string? applicationName = null)
    {
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = @db AND pid <> pg_backend_pid() AND (@app::text IS NULL OR application_name = @app);
            """, c);
        cmd.Parameters.AddWithValue("db", DatabaseName);
        cmd.Parameters.AddWithValue("app", (object?)applicationName ?? DBNull.Value);
        return (int)(long)(await cmd.ExecuteScalarAsync())!;
    }
}
