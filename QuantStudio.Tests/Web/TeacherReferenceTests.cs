using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

/// <summary>Through the web a teacher is an upload of this server or a finished run's teacher, named; a path is refused without touching the file.</summary>
public sealed class TeacherReferenceTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();
    private readonly string outside = Path.Combine(Path.GetTempPath(), "qs-outside-" + Guid.NewGuid().ToString("N"));

    public TeacherReferenceTests() => Directory.CreateDirectory(outside);

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
        QuantStudioFactory.DeleteData(outside);
    }

    private static string SpecWithTeacher(string checkpoint) =>
        TestSpecs.Json().Replace("\"arch\": \"cifar-teacher\"",
            $"\"arch\": \"cifar-teacher\", \"width\": {TeacherFiles.Width}, \"checkpoint\": {JsonSerializer.Serialize(checkpoint)}");

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json) =>
        await client.PostAsync("/api/runs", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>The weights of the teacher the spec names: a file that passes every check before a run is queued.</summary>
    private static byte[] ValidSafetensors() => TeacherFiles.Of("cifar-teacher", TeacherFiles.Width, TeacherFiles.Shapes);

    private async Task<string> UploadAsync(HttpClient client)
    {
        var res = await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(ValidSafetensors()));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        return (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
    }

    [Fact]
    public async Task A_path_is_refused_the_same_way_whether_or_not_the_file_exists_and_nothing_of_it_is_echoed()
    {
        var client = factory.CreateClient();
        var validOutside = Path.Combine(outside, "teacher.safetensors");
        File.WriteAllBytes(validOutside, ValidSafetensors());
        var uploaded = await UploadAsync(client);
        var candidates = new[]
        {
            "/etc/passwd", "/nowhere/teacher.safetensors", validOutside,
            // A relative path to an upload that exists: checked in one folder and read in another before.
            "uploads/" + uploaded, "../uploads/" + uploaded, "./" + uploaded,
        };
        var details = new List<string>();
        foreach (var checkpoint in candidates)
        {
            var res = await PostAsync(client, SpecWithTeacher(checkpoint));
            Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
            var body = await res.Content.ReadAsStringAsync();
            Assert.DoesNotContain("root:", body);
            Assert.DoesNotContain("3475222254926655346", body);
            Assert.DoesNotContain(factory.DataDirectory, body);
            var problem = JsonDocument.Parse(body).RootElement;
            var message = Assert.Single(problem.GetProperty("errors").GetProperty("teacher.checkpoint").EnumerateArray()).GetString()!;
            details.Add(message.Replace(checkpoint, "<given>"));
        }
        // No existence oracle: an existing file and a missing one get the same answer.
        Assert.Single(details.Distinct());
        Assert.Empty(factory.Runner.Contexts);
    }

    [Fact]
    public async Task An_upload_named_by_its_name_reaches_the_runner_as_the_stored_file()
    {
        var client = factory.CreateClient();
        var name = await UploadAsync(client);
        var id = await TestSpecs.CreateRunAsync(client, SpecWithTeacher(name));
        await TestSpecs.WaitForStatusAsync(client, id, "finished");

        var given = Assert.Single(factory.Runner.Contexts).Spec.Teacher!.Checkpoint!;
        Assert.Equal(Path.Combine(factory.DataDirectory, "uploads", name), given);
        Assert.True(File.Exists(given));
        // The stored spec keeps the name.
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
        Assert.Equal(name, detail.GetProperty("spec").GetProperty("teacher").GetProperty("checkpoint").GetString());
    }

    [Fact]
    public async Task A_finished_runs_teacher_is_named_run_and_its_id()
    {
        var client = factory.CreateClient();
        var first = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, first, "finished");
        var noTeacher = await PostAsync(client, SpecWithTeacher($"run:{first}"));
        Assert.Equal(HttpStatusCode.BadRequest, noTeacher.StatusCode);
        Assert.Contains($"run {first}", await noTeacher.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, SpecWithTeacher("run:99999"))).StatusCode);

        var teacher = Path.Combine(factory.DataDirectory, "runs", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "teacher.safetensors");
        File.WriteAllBytes(teacher, ValidSafetensors());
        var second = await TestSpecs.CreateRunAsync(client, SpecWithTeacher($"run:{first}"));
        await TestSpecs.WaitForStatusAsync(client, second, "finished");
        Assert.Equal(teacher, factory.Runner.Contexts[^1].Spec.Teacher!.Checkpoint);
    }
}
