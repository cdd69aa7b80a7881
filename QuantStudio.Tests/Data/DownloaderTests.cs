using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

public class DownloaderTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31 % 251)).ToArray();
    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Serves fixed bytes per URL (404 for others) and records the requests.</summary>
    private sealed class StubHandler(Dictionary<string, byte[]> files) : HttpMessageHandler
    {
        public List<string> Requested { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var url = request.RequestUri!.ToString();
            Requested.Add(url);
            if (!files.TryGetValue(url, out var body))
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" });
            var content = new ByteArrayContent(body);
            content.Headers.ContentLength = body.Length;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    /// <summary>Records every report synchronously (Progress&lt;T&gt; would post them later, on the thread pool).</summary>
    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = [];
        public void Report(DownloadProgress value)
        {
            lock (Reports)
                Reports.Add(value);
        }
    }

    [Fact]
    public async Task A_good_download_reports_progress_and_appears_only_when_complete()
    {
        using var files = new DataTestFiles();
        var handler = new StubHandler(new() { ["http://mirror/a.bin"] = Payload });
        var downloader = new DatasetDownloader(new HttpClient(handler)) { ProgressStepBytes = 50_000 };
        var recorder = new Recorder();
        var destination = files.PathOf("sub/a.bin");
        await downloader.DownloadAsync(new RemoteFile("a.bin", ["http://mirror/a.bin"], Sha(Payload)), destination, recorder);

        Assert.Equal(Payload, File.ReadAllBytes(destination));
        Assert.False(File.Exists(destination + DatasetDownloader.PartialSuffix));
        Assert.True(recorder.Reports.Count >= 5, $"{recorder.Reports.Count} progress reports");
        Assert.All(recorder.Reports, r => Assert.Equal(Payload.Length, r.TotalBytes));
        Assert.Equal(recorder.Reports.Select(r => r.BytesReceived).Order(), recorder.Reports.Select(r => r.BytesReceived));
        var last = recorder.Reports[^1];
        Assert.True(last.Completed);
        Assert.Equal(1.0, last.Fraction);
        Assert.Single(recorder.Reports, r => r.Completed);
    }

    [Fact]
    public async Task A_hash_mismatch_leaves_no_file_and_says_what_was_expected()
    {
        using var files = new DataTestFiles();
        var handler = new StubHandler(new() { ["http://mirror/a.bin"] = Payload });
        var downloader = new DatasetDownloader(new HttpClient(handler));
        var destination = files.PathOf("a.bin");
        var wrong = new string('0', 64);
        var ex = await Assert.ThrowsAsync<DatasetDownloadException>(() =>
            downloader.DownloadAsync(new RemoteFile("a.bin", ["http://mirror/a.bin"], wrong), destination));
        Assert.Contains("SHA-256 mismatch", ex.Message);
        Assert.Contains(wrong, ex.Message);
        Assert.Contains(Sha(Payload), ex.Message);
        Assert.Contains(Path.GetFullPath(destination), ex.Message);
        Assert.False(File.Exists(destination));
        Assert.False(File.Exists(destination + DatasetDownloader.PartialSuffix));
    }

    [Fact]
    public async Task A_failing_mirror_falls_through_to_the_next()
    {
        using var files = new DataTestFiles();
        var handler = new StubHandler(new() { ["http://second/a.bin"] = Payload });
        var downloader = new DatasetDownloader(new HttpClient(handler));
        var destination = files.PathOf("a.bin");
        await downloader.DownloadAsync(new RemoteFile("a.bin", ["http://first/a.bin", "http://second/a.bin"], Sha(Payload)), destination);
        Assert.Equal(["http://first/a.bin", "http://second/a.bin"], handler.Requested);
        Assert.Equal(Payload, File.ReadAllBytes(destination));

        var ex = await Assert.ThrowsAsync<DatasetDownloadException>(() =>
            downloader.DownloadAsync(new RemoteFile("b.bin", ["http://first/b.bin"], Sha(Payload)), files.PathOf("b.bin")));
        Assert.Contains("HTTP 404", ex.Message);
    }

    [Fact]
    public async Task An_existing_file_is_replaced_only_by_a_verified_download()
    {
        using var files = new DataTestFiles();
        var destination = files.Write("a.bin", [1, 2, 3]);
        var handler = new StubHandler(new() { ["http://mirror/a.bin"] = Payload });
        var downloader = new DatasetDownloader(new HttpClient(handler));
        await Assert.ThrowsAsync<DatasetDownloadException>(() =>
            downloader.DownloadAsync(new RemoteFile("a.bin", ["http://mirror/a.bin"], new string('f', 64)), destination));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task Downloads_over_a_real_local_http_server()
    {
        using var files = new DataTestFiles();
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var server = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.ContentLength64 = Payload.Length;
            // Send in slices so the client sees the body arrive over time.
            for (var offset = 0; offset < Payload.Length; offset += 64 * 1024)
                await context.Response.OutputStream.WriteAsync(Payload.AsMemory(offset, Math.Min(64 * 1024, Payload.Length - offset)));
            context.Response.Close();
        });
        var recorder = new Recorder();
        var downloader = new DatasetDownloader(new HttpClient()) { ProgressStepBytes = 32 * 1024 };
        var destination = files.PathOf("served.bin");
        await downloader.DownloadAsync(new RemoteFile("served.bin", [$"http://127.0.0.1:{port}/served.bin"], Sha(Payload)), destination, recorder);
        await server;
        Assert.Equal(Payload, File.ReadAllBytes(destination));
        Assert.True(recorder.Reports.Count(r => !r.Completed) >= 3);
        Assert.Equal(Payload.Length, recorder.Reports[^1].BytesReceived);
    }

    [Fact]
    public async Task The_text_dataset_downloads_when_asked_and_verifies_the_pinned_hash()
    {
        using var files = new DataTestFiles();
        var url = PlainTextSource.TinyShakespeare.Urls[0];
        var handler = new StubHandler(new() { [url] = "not the real play\n"u8.ToArray() });
        var options = new DatasetLoadOptions { Downloader = new DatasetDownloader(new HttpClient(handler)) };
        var spec = new DatasetSpec { Name = "text", Root = files.Root, Download = true };
        var ex = await Assert.ThrowsAsync<DatasetDownloadException>(() => DatasetRegistry.LoadAsync(spec, 1, options));
        Assert.Contains(PlainTextSource.TinyShakespeare.Sha256, ex.Message);
        Assert.False(File.Exists(files.PathOf("input.txt")));
        Assert.Equal([url], handler.Requested);
    }

    [Fact]
    public async Task Mnist_download_verifies_the_pinned_hashes_and_keeps_nothing_unverified()
    {
        using var files = new DataTestFiles();
        var bodies = new Dictionary<string, byte[]>();
        var remotes = new List<RemoteFile>();
        foreach (var (name, data) in new[]
                 {
                     (IdxImageSource.TrainImages, DataTestFiles.Gzip(DataTestFiles.Idx([4, 28, 28], new byte[4 * 784]))),
                     (IdxImageSource.TrainLabels, DataTestFiles.Gzip(DataTestFiles.Idx([4], [0, 1, 2, 3]))),
                     (IdxImageSource.TestImages, DataTestFiles.Gzip(DataTestFiles.Idx([2, 28, 28], new byte[2 * 784]))),
                     (IdxImageSource.TestLabels, DataTestFiles.Gzip(DataTestFiles.Idx([2], [4, 5]))),
                 })
        {
            var real = IdxImageSource.Mnist.Downloads.Single(d => d.FileName == name);
            bodies[real.Urls[0]] = data;
            remotes.Add(real);
        }
        var handler = new StubHandler(bodies);
        var options = new DatasetLoadOptions { Downloader = new DatasetDownloader(new HttpClient(handler)) };
        // The stub serves stand-ins, so the pinned hash rejects the first file from both mirrors and nothing is kept.
        var ex = await Assert.ThrowsAsync<DatasetDownloadException>(() =>
            DatasetRegistry.LoadAsync(new DatasetSpec { Name = "mnist", Root = files.Root, Download = true }, 1, options));
        Assert.Contains("train-images-idx3-ubyte.gz", ex.Message);
        Assert.Contains(remotes[0].Urls[0], handler.Requested);
        Assert.Empty(Directory.GetFiles(files.Root));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
