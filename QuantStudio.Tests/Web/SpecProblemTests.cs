using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace QuantStudio.Tests.Web;

public sealed class SpecProblemTests : IDisposable
{
    private readonly QuantStudioFactory factory = new();

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    private async Task<JsonElement> PostExpectingProblemAsync(string body)
    {
        var res = await factory.CreateClient().PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType!.MediaType);
        return await res.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Messages(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToArray();

    [Fact]
    public async Task Out_of_range_bits_name_the_field_and_the_range()
    {
        var problem = await PostExpectingProblemAsync(TestSpecs.Json(bits: 12));
        Assert.Contains("1 to 8", Assert.Single(Messages(problem, "quantization.bits")));
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task An_unknown_model_names_the_field()
    {
        var problem = await PostExpectingProblemAsync(TestSpecs.Json(student: "resnet9000"));
        Assert.Contains("resnet9000", Assert.Single(Messages(problem, "student.arch")));
    }

    [Fact]
    public async Task A_file_dataset_without_its_folder_names_the_dataset()
    {
        var problem = await PostExpectingProblemAsync(TestSpecs.Json(dataset: "mnist"));
        var message = Assert.Single(Messages(problem, "dataset.name"));
        Assert.Contains("datasets/mnist in the data folder", message);
        Assert.DoesNotContain(factory.DataDirectory, message);
    }

    [Fact]
    public async Task A_file_dataset_with_its_folder_is_accepted()
    {
        Directory.CreateDirectory(Path.Combine(factory.DataDirectory, "datasets", "mnist"));
        var res = await factory.CreateClient().PostAsync("/api/runs", new StringContent(TestSpecs.Json(dataset: "mnist"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
    }

    [Fact]
    public async Task Malformed_json_is_a_problem_not_a_crash()
    {
        var problem = await PostExpectingProblemAsync("{ \"method\": ");
        Assert.True(problem.GetProperty("errors").EnumerateObject().Any());
        var wrongType = await PostExpectingProblemAsync("""{ "quantization": { "bits": "four" } }""");
        Assert.NotEmpty(Messages(wrongType, "quantization.bits"));
        var empty = await PostExpectingProblemAsync("");
        Assert.NotEmpty(Messages(empty, "spec"));
        var unknownField = await PostExpectingProblemAsync("""{ "bitz": 3 }""");
        Assert.NotEmpty(unknownField.GetProperty("errors").EnumerateObject());
        // The server is still serving.
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task A_missing_teacher_checkpoint_names_the_field()
    {
        var json = TestSpecs.Json().Replace("\"arch\": \"cifar-teacher\"", "\"arch\": \"cifar-teacher\", \"checkpoint\": \"/nowhere/teacher.safetensors\"");
        var problem = await PostExpectingProblemAsync(json);
        Assert.NotEmpty(Messages(problem, "teacher.checkpoint"));
    }

    [Fact]
    public async Task A_model_that_reads_the_other_kind_of_input_is_refused_when_the_run_is_created()
    {
        var teacher = await PostExpectingProblemAsync(TestSpecs.Json().Replace("\"arch\": \"cifar-teacher\"", "\"arch\": \"char-lstm\""));
        Assert.Contains("char-lstm", Assert.Single(Messages(teacher, "teacher.arch")));
        Assert.Contains("shapes", Assert.Single(Messages(teacher, "teacher.arch")));

        var student = await PostExpectingProblemAsync(TestSpecs.Json(student: "char-lstm"));
        Assert.Contains("text", Assert.Single(Messages(student, "student.arch")));
        Assert.Empty(factory.Runner.Contexts);
    }
}
