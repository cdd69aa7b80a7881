using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QuantStudio.Web.Uploads;

namespace QuantStudio.Tests.Web;

public sealed class UploadTests : IDisposable
{
    /// <summary>Room for a narrow teacher's weights (about 1.1 MB), and a limit a test can exceed cheaply.</summary>
    private const int MaxUploadBytes = 4 << 20;

    private readonly QuantStudioFactory factory = new(settings: new Dictionary<string, string?> { ["QuantStudio:MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public void Dispose()
    {
        factory.Dispose();
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    /// <summary>A safetensors file with the given header JSON and data length.</summary>
    public static byte[] Safetensors(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    internal static readonly string GoodHeader =
        """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}}""";

    [Fact]
    public void The_validator_accepts_a_well_formed_file_and_explains_broken_ones()
    {
        Assert.True(SafetensorsValidator.Validate(new MemoryStream(Safetensors(GoodHeader, 36))).Ok);
        string Error(byte[] b) => SafetensorsValidator.Validate(new MemoryStream(b)).Error!;
        Assert.Contains("shorter", Error([1, 2, 3]));
        Assert.Contains("header length", Error(Safetensors(GoodHeader, 36)[..20]));
        Assert.Contains("JSON", Error(Safetensors("{not json", 0)));
        Assert.Contains("dtype", Error(Safetensors("""{"w":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("need", Error(Safetensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("truncated", Error(Safetensors("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 2)));
        Assert.Contains("must begin at 0", Error(Safetensors("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)));
        Assert.Contains("gap", Error(Safetensors("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)));
        Assert.Contains("overlap", Error(Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)));
        // Only dtypes the engine can load are accepted.
        Assert.Contains("U16", Error(Safetensors("""{"w":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("cover", Error(Safetensors("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8)));
    }

    [Fact]
    public async Task A_valid_upload_is_stored_and_named_without_a_server_path()
    {
        var client = factory.CreateClient();
        var res = await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(Safetensors(GoodHeader, 36)));
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        var body = await res.Content.ReadAsStringAsync();
        Assert.DoesNotContain(factory.DataDirectory, body);
        var upload = JsonDocument.Parse(body).RootElement;
        var name = upload.GetProperty("name").GetString()!;
        Assert.Matches("^teacher-[0-9a-f]{16}\\.safetensors$", name);
        Assert.False(upload.TryGetProperty("checkpoint", out _));
        Assert.Equal(2, upload.GetProperty("tensors").GetInt32());
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "uploads", name)));

        var listed = await client.GetFromJsonAsync<JsonElement[]>("/api/uploads/teacher");
        Assert.Equal(name, Assert.Single(listed!).GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_upload_is_deleted_unless_a_queued_or_running_run_uses_it()
    {
        var client = factory.CreateClient();
        var teacher = TeacherFiles.Of("cifar-teacher", TeacherFiles.Width, TeacherFiles.Shapes);
        var name = (await (await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(teacher)))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
        factory.Runner.Gate = new SemaphoreSlim(0);
        var spec = TestSpecs.Json().Replace("\"arch\": \"cifar-teacher\"",
            $"\"arch\": \"cifar-teacher\", \"width\": {TeacherFiles.Width}, \"checkpoint\": \"{name}\"");
        var id = await TestSpecs.CreateRunAsync(client, spec);
        await factory.Runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var inUse = await client.DeleteAsync($"/api/uploads/teacher/{name}");
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
        Assert.Contains($"{id}", (await inUse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        factory.Runner.Gate.Release(100);
        await TestSpecs.WaitForStatusAsync(client, id, "finished");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/uploads/teacher/{name}")).StatusCode);
        Assert.False(File.Exists(Path.Combine(factory.DataDirectory, "uploads", name)));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/uploads/teacher/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/uploads/teacher/..%2Fquantstudio.db")).StatusCode);
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "quantstudio.db")));
    }

    [Fact]
    public async Task A_multipart_upload_works_too()
    {
        var client = factory.CreateClient();
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Safetensors(GoodHeader, 36)), "file", "teacher.safetensors" } };
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/uploads/teacher", form)).StatusCode);
    }

    [Fact]
    public async Task An_invalid_upload_is_refused_and_not_kept()
    {
        var client = factory.CreateClient();
        var res = await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(Encoding.UTF8.GetBytes("definitely not safetensors")));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("file", out _));
        Assert.Empty(Directory.GetFiles(Path.Combine(factory.DataDirectory, "uploads")));
    }

    [Fact]
    public async Task An_oversized_upload_is_refused()
    {
        var client = factory.CreateClient();
        const int size = MaxUploadBytes + 8000;
        var big = Safetensors($$$"""{"w":{"dtype":"U8","shape":[{{{size}}}],"data_offsets":[0,{{{size}}}]}}""", size);
        var res = await client.PostAsync("/api/uploads/teacher", new ByteArrayContent(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(factory.DataDirectory, "uploads")));
    }
}
