using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QuantStudio.Core.Checkpoints;

namespace QuantStudio.Tests.Web;

/// <summary>
/// A teacher file that does not fit the spec (another architecture, or weights for images of another size) is refused
/// when the run is submitted, with the mismatch named on <c>teacher.checkpoint</c>; nothing is queued and the server
/// goes on serving.
/// </summary>
public sealed class TeacherFitTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private static string Spec(string checkpoint, string dataset = "shapes") =>
        TestSpecs.Json(dataset: dataset).Replace("\"arch\": \"cifar-teacher\"",
            $"\"arch\": \"cifar-teacher\", \"width\": {TeacherFiles.Width}, \"checkpoint\": {JsonSerializer.Serialize(checkpoint)}");

    private static async Task<string> UploadAsync(HttpClient client, byte[] file)
    {
        var res = await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(file));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        return (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
    }

    private static async Task<string> RefusalAsync(HttpClient client, string json)
    {
        var res = await client.PostAsync("/api/runs", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(problem.GetProperty("errors").GetProperty("teacher.checkpoint").EnumerateArray()).GetString()!;
    }

    private async Task StillServingAsync(HttpClient client)
    {
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        Assert.Empty(factory.Runner.Contexts);
        // A spec that fits is still taken.
        var name = await UploadAsync(client, TeacherFiles.Of("cifar-teacher", TeacherFiles.Width, TeacherFiles.Shapes));
        var id = await TestSpecs.CreateRunAsync(client, Spec(name));
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
    }

    [Fact]
    public async Task An_upload_for_another_architecture_is_refused_naming_the_mismatch()
    {
        var client = factory.CreateClient();
        var name = await UploadAsync(client, TeacherFiles.Of("cifar-student-3", 1.0, TeacherFiles.Shapes));

        var message = await RefusalAsync(client, Spec(name));
        Assert.Contains(name, message);
        Assert.Contains("cifar-teacher (width 0.25) on 3×32×32 images", message);
        Assert.Contains("features.conv1.weight is [25, 3, 5, 5] in the file, [19, 3, 3, 3] in the model", message);
        Assert.Contains("are missing: features.conv5.weight", message);
        Assert.Contains("The file says it holds cifar-student-3", message);
        Assert.True(message.Length < 1000, $"{message.Length} characters: {message}");
        await StillServingAsync(client);
    }

    [Fact]
    public async Task A_teacher_for_images_of_another_size_is_refused_for_the_dataset()
    {
        var client = factory.CreateClient();
        Directory.CreateDirectory(Path.Combine(factory.DataDirectory, "datasets", "mnist"));
        var name = await UploadAsync(client, TeacherFiles.Of("cifar-teacher", TeacherFiles.Width, TeacherFiles.Shapes));

        var message = await RefusalAsync(client, Spec(name, "mnist"));
        Assert.Contains("on 1×28×28 images", message);
        Assert.Contains("features.conv1.weight is [19, 3, 3, 3] in the file, [19, 1, 3, 3] in the model", message);
        await StillServingAsync(client);
    }

    [Fact]
    public async Task A_finished_runs_teacher_of_another_architecture_is_refused()
    {
        var client = factory.CreateClient();
        var first = await TestSpecs.CreateRunAsync(client);
        await TestSpecs.WaitForStatusAsync(client, first, "finished");
        var teacher = Path.Combine(factory.DataDirectory, "runs", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "teacher.safetensors");
        File.WriteAllBytes(teacher, TeacherFiles.Of("lenet5", 1.0, TeacherFiles.Shapes));
        factory.Runner.Contexts.Clear();

        var message = await RefusalAsync(client, Spec($"run:{first}"));
        Assert.Contains($"'run:{first}'", message);
        Assert.Contains("The file says it holds lenet5", message);
        await StillServingAsync(client);
    }

    [Fact]
    public void A_file_that_fits_has_no_problem_and_long_lists_are_counted_not_spelled_out()
    {
        using (var fits = new MemoryStream(TeacherFiles.Of("resnet20", 1.0, TeacherFiles.Shapes)))
            Assert.Null(WeightsFileFit.Problem(fits, "resnet20", 1.0, 1.0, TeacherFiles.Shapes));
        using var other = new MemoryStream(TeacherFiles.Of("resnet20", 1.0, TeacherFiles.Shapes));
        var message = WeightsFileFit.Problem(other, "resnet32", 1.0, 1.0, TeacherFiles.Shapes)!;
        // resnet32 has five more blocks per stage than resnet20: their tensors are missing, named three at a time.
        Assert.Matches(@"\d+ of the model's \d+ tensors are missing: [^;]+ and \d+ more", message);
        Assert.DoesNotContain("have another shape", message);
    }
}
