using QuantStudio.Core.Engine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Web.Estimation;

namespace QuantStudio.Tests.Web;

public sealed class EstimateTests
{
    private readonly ModelZooParameterCounts counts = new();

    [Fact]
    public void Counts_follow_the_layer_formulas_for_the_dataset_shape()
    {
        // conv1 1·6·25+6, conv2 6·16·25+16, fc 400·120+120, 120·84+84, 84·10+10
        Assert.Equal(156 + 2416 + 48120 + 10164 + 850, counts.Count("lenet5", dataset: "mnist"));
        // Three channels at 32×32: conv1 3·6·25+6 and a 16·6·6 flattened feature map.
        Assert.Equal(456 + 2416 + (576 * 120 + 120) + 10164 + 850, counts.Count("lenet5", dataset: "shapes"));
        Assert.Equal(784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10, counts.Count("mlp", dataset: "fashion-mnist"));
        Assert.Equal(3072 * 256 + 256 + 256 * 256 + 256 + 256 * 100 + 100, counts.Count("mlp", dataset: "cifar100"));
        // Width scales the hidden units, depth the hidden layers.
        Assert.Equal(784 * 128 + 128 + 3 * (128 * 128 + 128) + 128 * 10 + 10, counts.Count("mlp", 0.5, 2, "mnist"));
    }

    [Fact]
    public void Counts_equal_the_zoo_models_own_and_text_models_use_the_default_vocabulary()
    {
        using (var model = ModelZoo.Create("cifar-student-3", InputShape.Image(3, 32, 32, 100), 1.5))
            Assert.Equal(model.NumParameters(), counts.Count("cifar-student-3", 1.5, 1, "cifar100"));
        using (var lstm = ModelZoo.Create("char-lstm", InputShape.Text(ModelZooParameterCounts.DefaultVocabulary), 0.5))
        {
            Assert.Equal(lstm.NumParameters(), counts.Count("char-lstm", 0.5, 1, "text-synthetic"));
            // Before the dataset is switched to text, the form still gets the text model's estimate.
            Assert.Equal(lstm.NumParameters(), counts.Count("char-lstm", 0.5, 1, "shapes"));
        }
        Assert.NotEqual(counts.Count("cifar-student-3", dataset: "cifar10"), counts.Count("cifar-student-3", dataset: "cifar100"));
        Assert.Equal(counts.Count("resnet20", dataset: "cifar10"), counts.Count("resnet20", dataset: null));
    }

    [Fact]
    public void Unknown_models_and_out_of_range_multipliers_have_no_count()
    {
        Assert.Null(counts.Count("nope"));
        Assert.Null(counts.Count("lenet5", width: 0));
        Assert.Null(counts.Count("lenet5", depth: 8.5));
        Assert.Null(counts.Count("lenet5", width: double.NaN));
    }

    [Fact]
    public void The_estimate_uses_the_specs_dataset()
    {
        var spec = new ExperimentSpec
        {
            Dataset = new DatasetSpec { Name = "mnist" },
            Student = new StudentSpec { Arch = "lenet5" },
            Method = Methods.QuantizedDistillation,
            Quantization = new QuantizationSpec { Bits = 2, BucketSize = 256 },
        };
        var e = CompressionEstimate.For(spec, counts)!;
        Assert.Equal(61_706, e.Parameters);
        Assert.Equal(61_706 * 4, e.Fp32Bytes);
        // conv1's 1·6·25 and the last layer's 84·10 weights stay fp32; the rest takes 2 bits per weight plus 8 bytes per bucket of 256.
        const long kept = 150 + 840, quantized = 61_706 - kept;
        Assert.Equal(kept, e.FullPrecisionParameters);
        Assert.Equal((quantized * 2 + 7) / 8 + (quantized + 255) / 256 * 8 + kept * 4, e.PackedBytes);
        Assert.Null(e.Warning);
    }

    [Fact]
    public void When_the_layers_left_in_full_precision_dominate_the_estimate_warns_and_suggests_quantize_first_last()
    {
        var spec = new ExperimentSpec { Dataset = new DatasetSpec { Name = "shapes" }, Student = new StudentSpec { Arch = "mlp" }, Method = Methods.QuantizedDistillation };
        var kept = CompressionEstimate.For(spec, counts)!;
        // fc1 (3072·256) and the classifier (256·10) stay fp32: 92 % of the weights.
        Assert.Equal(3072 * 256 + 256 * 10, kept.FullPrecisionParameters);
        Assert.InRange(kept.Ratio, 1.0, 1.2);
        Assert.Contains("quantize_first_last: true", kept.Warning);

        var all = CompressionEstimate.For(spec with { Quantization = new QuantizationSpec { QuantizeFirstLast = true } }, counts)!;
        Assert.Equal(0, all.FullPrecisionParameters);
        Assert.True(all.Ratio > 7, $"ratio {all.Ratio}");
        Assert.Null(all.Warning);
    }

    [Fact]
    public async Task The_estimate_endpoint_names_the_field_it_refuses()
    {
        using var factory = new QuantStudioFactory();
        try
        {
            var client = factory.CreateClient();
            var mlp = await client.GetFromJsonAsync<JsonElement>("/api/estimate?arch=mlp&dataset=shapes");
            Assert.Contains("quantize_first_last: true", mlp.GetProperty("warning").GetString());
            var mlpAll = await client.GetFromJsonAsync<JsonElement>("/api/estimate?arch=mlp&dataset=shapes&quantize_first_last=true");
            Assert.Equal(JsonValueKind.Null, mlpAll.GetProperty("warning").ValueKind);

            var cifar100 = await client.GetFromJsonAsync<JsonElement>("/api/estimate?arch=mlp&dataset=cifar100&method=distillation");
            Assert.Equal(3072 * 256 + 256 + 256 * 256 + 256 + 256 * 100 + 100, cifar100.GetProperty("parameters").GetInt64());
            Assert.Equal(1.0, cifar100.GetProperty("ratio").GetDouble());

            foreach (var (query, field) in new[] { ("arch=lenet5&width=9", "width"), ("arch=lenet5&depth=0", "depth"), ("arch=lenet5&dataset=imagenet", "dataset"), ("arch=vgg", "arch") })
            {
                var res = await client.GetAsync("/api/estimate?" + query);
                Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
                var problem = await res.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), query);
            }
        }
        finally
        {
            factory.Dispose();
            QuantStudioFactory.DeleteData(factory.DataDirectory);
        }
    }
}
