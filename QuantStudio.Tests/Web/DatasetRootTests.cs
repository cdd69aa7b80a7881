using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

/// <summary>Through the web a dataset's root is a name under the data folder's datasets/, never a path.</summary>
public sealed class DatasetRootTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();
    private readonly string outside = Path.Combine(Path.GetTempPath(), "qs-outside-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
        QuantStudioFactory.DeleteData(outside);
    }

    private static string Spec(string dataset, string? root, bool download, string student = "cifar-student-1", string method = "quantized_distillation") =>
        TestSpecs.Json(dataset: dataset, student: student, method: method).Replace($"\"name\": \"{dataset}\" }}",
            $"\"name\": \"{dataset}\", \"root\": {JsonSerializer.Serialize(root)}, \"download\": {(download ? "true" : "false")} }}");

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        await client.PostAsync("/api/runs", new StringContent(json, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("outside-absolute")]
    [InlineData("../outside")]
    [InlineData("sub/folder")]
    [InlineData(".hidden")]
    public async Task A_path_is_refused_and_nothing_is_created(string root)
    {
        var client = factory.CreateClient();
        var given = root == "outside-absolute" ? outside : root;
        var res = await PostAsync(client, Spec("mnist", given, download: true));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("dataset.root", out _));
        Assert.False(Directory.Exists(outside));
        Assert.Empty(factory.Runner.Contexts);
    }

    [Fact]
    public async Task A_name_is_a_folder_under_the_data_folders_datasets()
    {
        var client = factory.CreateClient();
        var missing = await PostAsync(client, Spec("mnist", "my-mnist", download: false));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var body = await missing.Content.ReadAsStringAsync();
        Assert.Contains("datasets/my-mnist", body);
        Assert.DoesNotContain(factory.DataDirectory, body);

        var id = await TestSpecs.CreateRunAsync(client, Spec("mnist", "my-mnist", download: true));
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(Path.Combine(factory.DataDirectory, "datasets", "my-mnist"), factory.Runner.Contexts[^1].Spec.Dataset.Root);
    }

    [Fact]
    public async Task A_text_datasets_root_may_be_a_file()
    {
        var client = factory.CreateClient();
        Directory.CreateDirectory(Path.Combine(factory.DataDirectory, "datasets"));
        File.WriteAllText(Path.Combine(factory.DataDirectory, "datasets", "corpus.txt"), "to be or not to be");
        var id = await TestSpecs.CreateRunAsync(client, Spec("text", "corpus.txt", download: false, student: "char-lstm", method: "full_precision"));
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(Path.Combine(factory.DataDirectory, "datasets", "corpus.txt"), factory.Runner.Contexts[^1].Spec.Dataset.Root);
    }
}
