using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Experiments;

public class SpecJsonTests
{
    [Fact]
    public void A_minimal_spec_gets_the_documented_defaults_and_round_trips()
    {
        var spec = SpecJson.Parse("""{ "method": "qkd", "teacher": { "arch": "cifar-teacher" } }""");
        Assert.Equal(Methods.Qkd, spec.Method);
        Assert.Equal(4, spec.Quantization.Bits);
        Assert.Equal(256, spec.Quantization.BucketSize);
        Assert.Equal(2.0, spec.Distillation.Temperature);
        Assert.Equal(0.7, spec.Distillation.Alpha);
        var again = SpecJson.Parse(SpecJson.Write(spec));
        Assert.Equal(SpecJson.Write(spec), SpecJson.Write(again));
        Assert.Contains("\"bucket_size\": 256", SpecJson.Write(spec));
    }

    [Theory]
    [InlineData("""{ "method": "full_precision", "quantization": { "bits": 9 } }""", "quantization.bits", null)]
    [InlineData("""{ "method": "post_training", "quantization": { "bits": 0 } }""", "quantization.bits", "1 to 8")]
    [InlineData("""{ "method": "post_training", "student": { "arch": "vgg99" } }""", "student.arch", "vgg99")]
    [InlineData("""{ "method": "post_training", "dataset": { "name": "imagenet" } }""", "dataset.name", "imagenet")]
    [InlineData("""{ "method": "quantized_distillation" }""", "teacher", "teacher")]
    [InlineData("""{ "method": "magic" }""", "method", "magic")]
    [InlineData("""{ "method": "post_training", "optimizer": { "batch_size": 0 } }""", "optimizer.batch_size", "between 1")]
    [InlineData("""{ "method": "post_training", "precision": "fp8" }""", "precision", "fp32, bf16, auto")]
    public void Invalid_values_are_reported_with_the_field_named(string json, string field, string? fragment)
    {
        if (field == "quantization.bits" && fragment is null)
        {
            // Bits do not matter for a full-precision run: no error.
            SpecJson.Parse(json);
            return;
        }
        var ex = Assert.Throws<SpecValidationException>(() => SpecJson.Parse(json));
        var error = Assert.Single(ex.Errors, e => e.Field == field);
        Assert.Contains(fragment!, error.Message);
    }

    [Theory]
    [InlineData("{ \"method\": ", "method")]
    [InlineData("""{ "quantization": { "bits": "four" } }""", "quantization.bits")]
    [InlineData("""{ "colour": "blue" }""", "colour")]
    public void Malformed_json_names_where_it_broke(string json, string field)
    {
        var ex = Assert.Throws<SpecValidationException>(() => SpecJson.Parse(json));
        Assert.Equal(field, Assert.Single(ex.Errors).Field);
    }

    [Fact]
    public void Event_stream_numbers_events_in_order_and_serializes_their_type()
    {
        var sink = new ListEventSink();
        var stream = new RunEventStream([sink], lastSeq: 41);
        stream.Emit(new PhaseStarted("tutoring", 2, 3));
        stream.Emit(new RunCancelled("user"));
        Assert.Equal([42L, 43L], sink.Events.Select(e => e.Seq));
        var json = System.Text.Json.JsonSerializer.Serialize<RunEvent>(sink.Events[0], SpecJson.Options);
        Assert.Contains("\"type\": \"phase_started\"", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<RunEvent>(json, SpecJson.Options);
        Assert.Equal(new PhaseStarted("tutoring", 2, 3) { Seq = 42, Time = sink.Events[0].Time }, back);
        Assert.True(sink.Events[1].IsTerminal);
    }
}
