using System.Buffers;
using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace QuantStudio.Core.Runs;

/// <summary>
/// A run's files in the shared database: a row per file and its content as bytea chunks of <see cref="ChunkSize"/>. A
/// single bytea parameter would not do: Npgsql buffers a Stream parameter whole in memory before sending it (it needs the
/// length first), and a value holds at most 1 GB. In chunks, a write holds one chunk in memory and a read streams from the
/// server (<see cref="CommandBehavior.SequentialAccess"/>), whatever the file's size. A replace rewrites the row and its
/// chunks in one transaction and a read is one query, so a reader sees the old or the new content, never a mix; the files go
/// with a backup of the database. A reader holds one pooled connection until it disposes the stream.
/// Writes are retried like every store operation, reading the source again from its start (a source that cannot seek, a
/// request body say, is first copied to a temporary file); a failing source is not retried.
/// </summary>
public sealed class PostgresArtifactStore : IArtifactStore, IAsyncDisposable
{
    /// <summary>The size of a stored chunk: large enough to keep the round trips few, small enough to hold in memory.</summary>
    public const int ChunkSize = 4 * 1024 * 1024;

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
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
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
            await retry.RunAsync(async (_, t) =>
            {
                source.Position = start;
                await using var c = await dataSource.OpenConnectionAsync(t);
                await using var tx = await c.BeginTransactionAsync(t);
                // The row first: its lock makes two writers of one file take turns.
                await using (var row = new NpgsqlCommand("""
                    INSERT INTO artifacts (run_id, name, length, updated_at) VALUES (@run, @name, @length, now())
                    ON CONFLICT (run_id, name) DO UPDATE SET length = excluded.length, updated_at = excluded.updated_at;
                    DELETE FROM artifact_chunks WHERE run_id = @run AND name = @name;
                    """, c, tx))
                {
                    row.Parameters.AddWithValue("run", runId);
                    row.Parameters.AddWithValue("name", name);
                    row.Parameters.AddWithValue("length", length);
                    await row.ExecuteNonQueryAsync(t);
                }
                await using var insert = new NpgsqlCommand(
                    "INSERT INTO artifact_chunks (run_id, name, idx, data) VALUES (@run, @name, @idx, @data);", c, tx);
                insert.Parameters.AddWithValue("run", runId);
                insert.Parameters.AddWithValue("name", name);
                var idx = new NpgsqlParameter<int>("idx", 0);
                var data = new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea);
                insert.Parameters.Add(idx);
                insert.Parameters.Add(data);
                long written = 0;
                for (var i = 0; written < length; i++)
                {
                    var n = await FillAsync(source, buffer.AsMemory(0, (int)Math.Min(ChunkSize, length - written)), t);
                    if (n == 0)
                        throw new IOException($"artifact '{name}' of run {runId}: the source ended after {written} of {length} bytes");
                    idx.TypedValue = i;
                    data.TypedValue = buffer.AsMemory(0, n);
                    await insert.ExecuteNonQueryAsync(t);
                    written += n;
                }
                await tx.CommitAsync(t);
            }, ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (spool is not null)
                await spool.DisposeAsync();
        }
    }

    private static async Task<int> FillAsync(Stream source, Memory<byte> buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await source.ReadAsync(buffer[total..], ct);
            if (n == 0)
                break;
            total += n;
        }
        return total;
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
                // One query, so one snapshot: the row and the chunks of the same version. An empty file has no chunk.
                cmd = new NpgsqlCommand("""
                    SELECT a.length, c.data FROM artifacts a
                    LEFT JOIN artifact_chunks c ON c.run_id = a.run_id AND c.name = a.name
                    WHERE a.run_id = @run AND a.name = @name
                    ORDER BY c.idx;
                    """, c);
                cmd.Parameters.AddWithValue("run", runId);
                cmd.Parameters.AddWithValue("name", name);
                reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, t);
                if (!await reader.ReadAsync(t))
                {
                    await DisposeAllAsync(reader, cmd, c);
                    return null;
                }
                return new ChunkedReadStream(reader.GetInt64(0), reader, cmd, c);
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
            await using var cmd = new NpgsqlCommand("DELETE FROM artifacts WHERE run_id = @run;", c); // the chunks go with their rows
            cmd.Parameters.AddWithValue("run", runId);
            await cmd.ExecuteNonQueryAsync(t);
        }, ct);
    }

    /// <summary>The tables come from the run store's initialization; made here too so the artifact store works on its own.</summary>
    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref schemaReady))
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
                Volatile.Write(ref schemaReady, true);
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

    /// <summary>
    /// The file's chunks read one after the other from a reader positioned on the first row; disposing it ends the query and
    /// returns the connection to the pool.
    /// </summary>
    private sealed class ChunkedReadStream(long length, NpgsqlDataReader reader, NpgsqlCommand cmd, NpgsqlConnection c) : Stream
    {
        private Stream? chunk;
        private bool ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            while (!ended && buffer.Length > 0)
            {
                if (chunk is null)
                {
                    if (await reader.IsDBNullAsync(1, ct))
                    {
                        ended = true; // an empty file
                        break;
                    }
                    chunk = await reader.GetStreamAsync(1, ct);
                }
                var n = await chunk.ReadAsync(buffer, ct);
                if (n > 0)
                    return n;
                await chunk.DisposeAsync();
                chunk = null;
                ended = !await reader.ReadAsync(ct);
            }
            return 0;
        }

        public override int Read(Span<byte> buffer)
        {
            while (!ended && buffer.Length > 0)
            {
                if (chunk is null)
                {
                    if (reader.IsDBNull(1))
                    {
                        ended = true;
                        break;
                    }
                    chunk = reader.GetStream(1);
                }
                var n = chunk.Read(buffer);
                if (n > 0)
                    return n;
                chunk.Dispose();
                chunk = null;
                ended = !reader.Read();
            }
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                chunk?.Dispose();
                reader.Dispose();
                cmd.Dispose();
                c.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (chunk is not null)
                await chunk.DisposeAsync();
            await DisposeAllAsync(reader, cmd, c);
            Dispose(false);
            GC.SuppressFinalize(this);
        }
    }
}
