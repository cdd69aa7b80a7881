using Microsoft.Data.Sqlite;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Runs;

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
    public async Task A_sweep_is_stored_with_its_runs_and_each_run_knows_its_sweep()
    {
        var store = new SqliteRunStore(Path.Combine(dir, "quantstudio.db"));
        await store.InitializeAsync();
        var now = DateTimeOffset.UtcNow;
        var lone = await store.CreateRunAsync(new NewRun("lone", new ExperimentSpec(), now));
        var runs = new[] { 2, 4, 8 }
            .Select(b => new NewRun($"bits {b}", new ExperimentSpec { Quantization = new QuantizationSpec { Bits = b } }, now))
            .ToList();

        var (sweep, stored) = await store.CreateSweepAsync(
            new NewSweep("bits", "{}", """[{"path":"quantization.bits","values":[2,4,8]}]""", now), runs);

        Assert.Equal(["bits 2", "bits 4", "bits 8"], stored.Select(r => r.Name));
        Assert.All(stored, r => Assert.Equal(sweep.Id, r.SweepId));
        Assert.All(stored, r => Assert.Equal(RunStatus.Queued, r.Status));
        Assert.Equal([2, 4, 8], stored.Select(r => r.TryReadSpec()!.Quantization.Bits));
        Assert.Null((await store.GetRunAsync(lone.Id))!.SweepId);
        var again = await store.GetSweepAsync(sweep.Id);
        Assert.Equal("""[{"path":"quantization.bits","values":[2,4,8]}]""", again!.AxesJson);
        Assert.Equal([sweep.Id], (await store.ListSweepsAsync()).Select(s => s.Id));
        Assert.Null(await store.GetSweepAsync(sweep.Id + 1));
        Assert.Empty(await store.ListSweepRunsAsync(sweep.Id + 1));
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
