namespace QuantStudio.Tests.Runs;

/// <summary>What every <see cref="IArtifactStore"/> does, run against the run-folder store and the PostgreSQL one.</summary>
public abstract class ArtifactStoreContractTests : IAsyncLifetime
{
    protected IArtifactStore Store { get; private set; } = null!;

    protected abstract Task<IArtifactStore> CreateEmptyStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Store = await CreateEmptyStoreAsync();

    public Task DisposeAsync() => DisposeStoreAsync();

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected async Task<byte[]?> ReadAllAsync(long runId, string name)
    {
        await using var s = await Store.OpenReadAsync(runId, name);
        if (s is null)
            return null;
        using var copy = new MemoryStream();
        await s.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_stored_file_reads_back_byte_for_byte()
    {
        var model = RandomBytes(9 * 1024 * 1024 + 17, seed: 1); // more than two of the PostgreSQL store's chunks
        var summary = "{\"student_accuracy\":0.91}"u8.ToArray();

        await Store.PutAsync(1, "model.qsc", new MemoryStream(model));
        await Store.PutAsync(1, "summary.json", new MemoryStream(summary));
        await Store.PutAsync(1, "empty.txt", new MemoryStream());

        Assert.Equal(model, await ReadAllAsync(1, "model.qsc"));
        Assert.Equal(summary, await ReadAllAsync(1, "summary.json"));
        Assert.Equal(Array.Empty<byte>(), await ReadAllAsync(1, "empty.txt"));
        Assert.Null(await ReadAllAsync(1, "missing.onnx"));
        Assert.Null(await ReadAllAsync(2, "model.qsc"));
    }

    [Fact]
    public async Task A_put_replaces_the_file_and_the_listing_tells_names_and_sizes()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        await Store.PutAsync(7, "model.qsc", new MemoryStream(RandomBytes(1000, 1)));
        await Store.PutAsync(7, "checkpoint.safetensors", new MemoryStream(RandomBytes(300, 2)));
        var second = RandomBytes(2500, 3);
        await Store.PutAsync(7, "model.qsc", new MemoryStream(second));

        Assert.Equal(second, await ReadAllAsync(7, "model.qsc"));
        var list = await Store.ListAsync(7);
        Assert.Equal(["checkpoint.safetensors", "model.qsc"], list.Select(f => f.Name));
        Assert.Equal([300L, 2500L], list.Select(f => f.Length));
        Assert.All(list, f => Assert.InRange(f.UpdatedAt, before, DateTimeOffset.UtcNow.AddSeconds(5)));
        Assert.Empty(await Store.ListAsync(8));
    }

    [Fact]
    public async Task A_source_that_cannot_seek_is_stored_whole()
    {
        var bytes = RandomBytes(200_000, 4);
        await Store.PutAsync(3, "teacher.safetensors", new ForwardOnlyStream(new MemoryStream(bytes)));
        Assert.Equal(bytes, await ReadAllAsync(3, "teacher.safetensors"));
        Assert.Equal(200_000, Assert.Single(await Store.ListAsync(3)).Length);
    }

    [Fact]
    public async Task A_reader_opened_before_a_replace_reads_the_old_content_whole()
    {
        var old = RandomBytes(9 * 1024 * 1024, 5);
        var replacement = RandomBytes(1024 * 1024, 6);
        await Store.PutAsync(4, "model.qsc", new MemoryStream(old));

        await using (var reader = await Store.OpenReadAsync(4, "model.qsc"))
        {
            var head = new byte[1000];
            await reader!.ReadExactlyAsync(head);
            await Store.PutAsync(4, "model.qsc", new MemoryStream(replacement));
            using var rest = new MemoryStream();
            await reader.CopyToAsync(rest);
            Assert.Equal(old, head.Concat(rest.ToArray()).ToArray());
        }
        Assert.Equal(replacement, await ReadAllAsync(4, "model.qsc"));
    }

    [Fact]
    public async Task A_put_whose_source_fails_leaves_the_old_file()
    {
        var old = RandomBytes(5000, 7);
        await Store.PutAsync(5, "model.qsc", new MemoryStream(old));

        var failing = new FailingStream(RandomBytes(100_000, 8), failAfter: 50_000);
        var error = await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(5, "model.qsc", failing));

        Assert.Equal("the source broke", error.Message);
        Assert.Equal(old, await ReadAllAsync(5, "model.qsc"));
        Assert.Equal(["model.qsc"], (await Store.ListAsync(5)).Select(f => f.Name));
    }

    [Fact]
    public async Task Deleting_a_run_removes_its_files_only()
    {
        await Store.PutAsync(10, "a.bin", new MemoryStream([1, 2, 3]));
        await Store.PutAsync(10, "b.bin", new MemoryStream([4]));
        await Store.PutAsync(11, "a.bin", new MemoryStream([5, 6]));

        await Store.DeleteRunAsync(10);
        await Store.DeleteRunAsync(12); // nothing stored: nothing to do

        Assert.Empty(await Store.ListAsync(10));
        Assert.Null(await ReadAllAsync(10, "a.bin"));
        Assert.Equal([5, 6], await ReadAllAsync(11, "a.bin"));
    }

    [Theory]
    [InlineData("../model.qsc", "path separator")]
    [InlineData("sub/model.qsc", "path separator")]
    [InlineData("sub\\model.qsc", "path separator")]
    [InlineData("..", "names a folder")]
    [InlineData(".", "names a folder")]
    [InlineData("", "empty")]
    [InlineData(".hidden", "starts with '.'")]
    public async Task A_name_that_is_not_a_plain_file_name_is_refused_with_the_reason(string name, string reason)
    {
        var put = await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(9, name, new MemoryStream([1])));
        Assert.Contains($"'{name}'", put.Message);
        Assert.Contains(reason, put.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(9, name));
        Assert.Empty(await Store.ListAsync(9));
    }

    /// <summary>A stream that reads forward only, like a request body.</summary>
    protected sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 4096));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable source that breaks partway through (a disk error, say).</summary>
    protected sealed class FailingStream(byte[] content, int failAfter) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAfter)
                throw new IOException("the source broke");
            return base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));
        }

        public override int Read(Span<byte> buffer)
        {
            var array = new byte[buffer.Length];
            var n = Read(array, 0, array.Length);
            array.AsSpan(0, n).CopyTo(buffer);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            Task.FromResult(Read(buffer, offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
    }
}

public sealed class FolderArtifactStoreContractTests : ArtifactStoreContractTests, IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "qs-artifacts-" + Guid.NewGuid().ToString("N"), "runs");

    protected override Task<IArtifactStore> CreateEmptyStoreAsync() => Task.FromResult<IArtifactStore>(new FolderArtifactStore(root));

    public void Dispose()
    {
        var data = Path.GetDirectoryName(root)!;
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task Files_go_to_the_runs_folder_and_no_partial_file_stays_behind()
    {
        await Store.PutAsync(42, "model.qsc", new MemoryStream([1, 2, 3]));
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(42, "model.qsc", new FailingStream(new byte[10], failAfter: 5)));

        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(root, "42", "model.qsc")));
        Assert.Equal(["model.qsc"], Directory.GetFiles(Path.Combine(root, "42")).Select(Path.GetFileName));
    }
}

public sealed class PostgresArtifactStoreContractTests(PostgresTestDatabase database)
    : ArtifactStoreContractTests, IClassFixture<PostgresTestDatabase>
{
    private PostgresArtifactStore? store;

    protected override async Task<IArtifactStore> CreateEmptyStoreAsync()
    {
        store = new PostgresArtifactStore(database.StoreOptions());
        await store.ListAsync(0); // makes the schema
        await database.ResetAsync();
        return store;
    }

    protected override async Task DisposeStoreAsync()
    {
        if (store is not null)
            await store.DisposeAsync();
    }
}
