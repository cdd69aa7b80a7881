using System.Net;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web;

public sealed class ArtifactTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Theory]
    [InlineData("..%2F..%2Fquantstudio.db")]
    [InlineData("..%2f..%2fquantstudio.db")]
    [InlineData("%2E%2E/%2E%2E/quantstudio.db")]
    [InlineData("..%5C..%5Cquantstudio.db")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("%2F%2Fetc%2Fpasswd")]
    [InlineData("sub/..%2F..%2F..%2Fquantstudio.db")]
    [InlineData("outside-link")]
    [InlineData("linked-dir/secret.txt")]
    public async Task Names_outside_the_run_folder_are_refused(string name)
    {
        var client = factory.CreateClient();
        var id = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        var runDir = Path.Combine(factory.DataDirectory, "runs", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var secretDir = Path.Combine(factory.DataDirectory, "secret");
        Directory.CreateDirectory(secretDir);
        await File.WriteAllTextAsync(Path.Combine(secretDir, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(runDir, "outside-link"), Path.Combine(secretDir, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(runDir, "linked-dir"), secretDir);

        var res = await client.GetAsync($"/api/runs/{id}/artifacts/{name}");
        Assert.NotEqual(HttpStatusCode.OK, res.StatusCode);
        var body = await res.Content.ReadAsStringAsync();
        Assert.DoesNotContain("SQLite format", body);
        Assert.DoesNotContain("secret\n", body);
        Assert.DoesNotContain("root:", body);

        // The run's own file is still served, and links are not listed.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/runs/{id}/artifacts/model.qsc")).StatusCode);
        var list = await client.GetStringAsync($"/api/runs/{id}/artifacts");
        Assert.DoesNotContain("outside-link", list);
        Assert.DoesNotContain("secret.txt", list);
    }

    [Fact]
    public void Resolve_accepts_only_plain_relative_names_inside_the_folder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "qs-art-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "checkpoints"));
        File.WriteAllText(Path.Combine(dir, "model.qsc"), "x");
        File.WriteAllText(Path.Combine(dir, "checkpoints", "epoch-1.ckpt"), "x");
        try
        {
            Assert.Equal(Path.Combine(dir, "model.qsc"), RunArtifacts.Resolve(dir, "model.qsc"));
            Assert.Equal(Path.Combine(dir, "checkpoints", "epoch-1.ckpt"), RunArtifacts.Resolve(dir, "checkpoints/epoch-1.ckpt"));
            foreach (var bad in new[] { "", "../model.qsc", "./model.qsc", "/etc/passwd", "checkpoints/../model.qsc", "a\\b", "model.qsc\0", "C:x", "missing" })
                Assert.Null(RunArtifacts.Resolve(dir, bad));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
