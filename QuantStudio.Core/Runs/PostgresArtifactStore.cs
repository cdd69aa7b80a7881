using System.Data;
using System.Runtime.ExceptionServices;
using Npgsql;
using NpgsqlTypes;

namespace QuantStudio.Core.Runs;

/// <summary>
/// A run's files in the shared database, one bytea row each: a replace is one statement, so a reader sees the old or the
/// new content, and the files go with a backup of the database. Reads stream from the server
/// (<see cref="CommandBehavior.SequentialAccess"/>), so a reader holds one connection, not the file, until it disposes the
/// stream. PostgreSQL takes a bytea value up to 1 GB; QuantStudio's files (checkpoints, models) are far below that.
/// Writes are retried like every store operation (the source is read again from its start: a source that cannot seek is
/// first copied to a temporary file).
/// </summary>
public sealed class PostgresArtifactStore : IArtifactStore, IAsyncDisposable
{
    /// <summary>The largest file kept: a bytea value holds at most 1 GB.</summary>
    public const long MaxLength = 1_000_000_000;

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresRetry retry;
    private readonly SemaphoreSlim schemaOnce = new(1, 1);
    private bool schemaReady;

    public PostgresArtifactStore(PostgresStoreOptions options)
    {
        dataSource = NpgsqlDataSource.Create(options.ConnectionString);
        retry = new PostgresRetry(dataSource, options);
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    public async Task PutAsync(long runId, string name, Stream content, CancellationToken ct = default)
    {
        ArtifactNames.Check(name);
        await EnsureSchemaAsync(ct);
        FileStream? spool = null;
        try
        {
            var source = content;
            if (!content.CanSeek)
            {
                spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16,
                    FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await content.CopyToAsync(spool, ct);
                spool.Position = 0;
                source = spool;
            }
            var start = source.Position;
            var length = source.Length - start;
            if (length > MaxLength)
                throw new ArgumentException(
                    $"artifact '{name}' of run {runId} is {length} bytes; the PostgreSQL store keeps files up to {MaxLength} bytes", nameof(content));
            await retry.RunAsync(async (_, t) =>
            {
                source.Position = start;
                var watched = new WatchedReadStream(source, length);
                try
                {
                    await using var c = await dataSource.OpenConnectionAsync(t);
                    await using var cmd = new NpgsqlCommand("""
                        INSERT INTO artifacts (run_id, name, length, updated_at, content) VALUES (@run, @name, @length, now(), @content)
                        ON CONFLICT (run_id, name) DO UPDATE
                        SET length = excluded.length, updated_at = excluded.updated_at, content = excluded.content;
                        """, c);
                    cmd.Parameters.AddWithValue("run", runId);
                    cmd.Parameters.AddWithValue("name", name);
                    cmd.Parameters.AddWithValue("length", length);
                    cmd.Parameters.Add(new NpgsqlParameter("content", NpgsqlDbType.Bytea) { Value = watched, Size = (int)length });
                    await cmd.ExecuteNonQueryAsync(t);
                }
                catch when (watched.Failure is not null)
                {
                    // The source failed, not the database: no retry will read it better.
                    ExceptionDispatchInfo.Throw(watched.Failure);
                }
            }, ct);
        }
        finally
        {
            if (spool is not null)
                await spool.DisposeAsync();
        }
    }

    public async Task<Stream?> OpenReadAsync(long runId, string name, CancellationToken ct = default)
    {
        ArtifactNames.Check(name);
        await EnsureSchemaAsync(ct);
        return await retry.RunAsync<Stream?>(async (_, t) =>
        {
            var c = await dataSource.OpenConnectionAsync(t);
            NpgsqlCommand? cmd = null;
            NpgsqlDataReader? reader = null;
            try
            {
                cmd = new NpgsqlCommand("SELECT length, content FROM artifacts WHERE run_id = @run AND name = @name;", c);
                cmd.Parameters.AddWithValue("run", runId);
                cmd.Parameters.AddWithValue("name", name);
                reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, t);
                if (!await reader.ReadAsync(t))
                {
                    await DisposeAllAsync(reader, cmd, c);
                    return null;
                }
                var length = reader.GetInt64(0);
                return new ConnectionOwningStream(await reader.GetStreamAsync(1, t), length, reader, cmd, c);
            }
            catch
            {
                await DisposeAllAsync(reader, cmd, c);
                throw;
            }
        }, ct);
    }

    public async Task<IReadOnlyList<ArtifactInfo>> ListAsync(long runId, CancellationToken ct = default)
    {
        await EnsureSchemaAsync(ct);
        return await retry.RunAsync<IReadOnlyList<ArtifactInfo>>(async (_, t) =>
        {
            await using var c = await dataSource.OpenConnectionAsync(t);
            await using var cmd = new NpgsqlCommand(
                "SELECT name, length, updated_at FROM artifacts WHERE run_id = @run ORDER BY name COLLATE \"C\";", c);
            cmd.Parameters.AddWithValue("run", runId);
            var list = new List<ArtifactInfo>();
            await using var r = await cmd.ExecuteReaderAsync(t);
            while (await r.ReadAsync(t))
                list.Add(new ArtifactInfo(r.GetString(0), r.GetInt64(1), r.GetFieldValue<DateTimeOffset>(2)));
            return list;
        }, ct);
    }

    public async Task DeleteRunAsync(long runId, CancellationToken ct = default)
    {
        await EnsureSchemaAsync(ct);
        await retry.RunAsync(async (_, t) =>
        {
            await using var c = await dataSource.OpenConnectionAsync(t);
            await using var cmd = new NpgsqlCommand("DELETE FROM artifacts WHERE run_id = @run;", c);
            cmd.Parameters.AddWithValue("run", runId);
            await cmd.ExecuteNonQueryAsync(t);
        }, ct);
    }

    /// <summary>The tables come from the run store's initialization; made here too so the artifact store works on its own.</summary>
    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        if (schemaReady)
            return;
        await schemaOnce.WaitAsync(ct);
        try
        {
            if (!schemaReady)
            {
                await retry.RunAsync(async (_, t) =>
                {
                    await using var c = await dataSource.OpenConnectionAsync(t);
                    await PostgresSchema.EnsureAsync(c, t);
                }, ct);
                schemaReady = true;
            }
        }
        finally
        {
            schemaOnce.Release();
        }
    }

    private static async ValueTask DisposeAllAsync(NpgsqlDataReader? reader, NpgsqlCommand? cmd, NpgsqlConnection c)
    {
        if (reader is not null)
            await reader.DisposeAsync();
        if (cmd is not null)
            await cmd.DisposeAsync();
        await c.DisposeAsync();
    }

    /// <summary>The content stream of one row; disposing it ends the query and returns the connection to the pool.</summary>
    private sealed class ConnectionOwningStream(Stream content, long length, NpgsqlDataReader reader, NpgsqlCommand cmd, NpgsqlConnection c)
        : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => content.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => content.Read(buffer);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => content.ReadAsync(buffer, offset, count, ct);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => content.ReadAsync(buffer, ct);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await content.DisposeAsync();
            await DisposeAllAsync(reader, cmd, c);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Reads the source for Npgsql and remembers whether the source itself failed.</summary>
    private sealed class WatchedReadStream(Stream source, long length) : Stream
    {
        public Exception? Failure { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Watch(() => source.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            try
            {
                return await source.ReadAsync(buffer, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Failure = ex;
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Watch(Func<int> read)
        {
            try
            {
                return read();
            }
            catch (Exception ex)
            {
                Failure = ex;
                throw;
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
