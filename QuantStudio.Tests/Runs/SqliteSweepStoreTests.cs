using Microsoft.Data.Sqlite;
namespace QuantStudio.Tests.Runs;

/// <summary>What only the SQLite store does: upgrade a database made before sweeps. The rest is in <see cref="RunStoreContractTests"/>.</summary>
public sealed class SqliteSweepStoreTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "qs-sweeps-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_database_from_before_sweeps_gains_the_column_and_keeps_its_runs()
    {
        var path = Path.Combine(dir, "old.db");
        Directory.CreateDirectory(dir);
        await using (var c = new SqliteConnection($"Data Source={path}"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL, spec_json TEXT NOT NULL,
                    method TEXT NOT NULL, dataset TEXT NOT NULL, bits INTEGER NULL, created_at TEXT NOT NULL, started_at TEXT NULL,
                    finished_at TEXT NULL, summary_json TEXT NOT NULL DEFAULT '{}', last_error TEXT NULL, resume INTEGER NOT NULL DEFAULT 0);
                INSERT INTO runs (name, status, spec_json, method, dataset, created_at)
                    VALUES ('old', 'finished', '{}', 'post_training', 'shapes', '2026-01-01T00:00:00.0000000+00:00');
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        var store = new SqliteRunStore(path);
        await store.InitializeAsync();
        await store.InitializeAsync(); // idempotent

        var old = Assert.Single(await store.ListRunsAsync());
        Assert.Equal("old", old.Name);
        Assert.Null(old.SweepId);
    }
}
