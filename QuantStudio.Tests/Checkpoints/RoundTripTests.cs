using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>
/// Save then load gives back exactly the values of quantizing the same weights directly, with the
/// quantizers the methods use (not with the checkpoint's own code), for every encoding.
/// </summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    public static TheoryData<string> Encodings => ["uniform-4-256", "uniform-2-none", "absmax-3-64", "uniform-8-32", "points-quantile-3", "points-uniform-16", "lsq-4", "lsq-2", "fp32"];

    /// <summary>The encoding named by <paramref name="kind"/> for <paramref name="weight"/>, and what quantizing it directly gives.</summary>
    private static (TensorEncoding Encoding, Tensor Expected) Direct(string kind, Tensor weight)
    {
        var parts = kind.Split('-');
        switch (parts[0])
        {
            case "uniform" or "absmax":
            {
                int bits = int.Parse(parts[1]);
                int? bucket = parts[2] == "none" ? null : int.Parse(parts[2]);
                var scheme = parts[0] == "uniform" ? QuantizationScheme.Uniform : QuantizationScheme.AbsMax;
                using var q = new BucketedQuantizer(new QuantizerSettings(bits, bucket, scheme)).Quantize(weight);
                return (new UniformEncoding(bits, bucket, parts[0]), q.Dequantized.alias());
            }
            case "points":
            {
                var count = int.Parse(parts[2]);
                var values = weight.data<float>().ToArray();
                var points = parts[1] == "quantile" ? NonUniformQuantizer.QuantilePoints(values, count, 128) : NonUniformQuantizer.UniformPoints(count);
                var (dequantized, _, _, _) = new NonUniformQuantizer(points, 128).Quantize(values);
                return (new PointsEncoding(points, 128), torch.tensor(dequantized, weight.shape));
            }
            case "lsq":
            {
                var lsq = LearnedStepQuantizer.ForWeights(int.Parse(parts[1]));
                using var step = lsq.InitialStep(weight);
                using var noGrad = torch.no_grad();
                return (new LsqEncoding(lsq.Bits, step.item<float>()), lsq.Forward(weight, step));
            }
            default:
                return (new FullPrecisionEncoding(), weight.clone());
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void LeNet5_weights_load_back_bit_exact(string kind)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Create("lenet5", Mnist);
        using var state = model.StateDictOf();
        var encodings = new Dictionary<string, TensorEncoding>();
        var expected = new Dictionary<string, Tensor>();
        foreach (var name in Weights(model))
        {
            var (encoding, value) = Direct(kind, state[name]);
            encodings[name] = encoding;
            expected[name] = value;
        }
        var path = PathOf("lenet.qsc");
        var info = CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist), encodings);

        using var loaded = CompressedCheckpoint.Load(path);
        using var restored = loaded.Model.StateDictOf();
        Assert.Equal(state.Keys, restored.Keys);
        foreach (var (name, value) in restored)
            AssertBitwiseEqual(expected.GetValueOrDefault(name) ?? state[name], value, name);
        Assert.False(loaded.Model.training);

        // The quantized tensors really changed (and hold few distinct values); fp32 ones did not.
        foreach (var name in expected.Keys)
        {
            if (kind == "fp32")
                Assert.Equal(Bits(state[name]), Bits(restored[name]));
            else
                Assert.NotEqual(Bits(state[name]), Bits(restored[name]));
        }
        Assert.Equal(kind == "fp32" ? 0 : Weights(model).Count, info.Tensors.Count(t => t.Sizes is not null));
        Assert.Equal(new FileInfo(path).Length, info.FileBytes);
    }

    [Fact]
    public void Student_with_mixed_encodings_keeps_every_tensor_including_batch_norm_buffers()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Create("cifar-student-3", Shapes, width: 0.5);
        RunTrainingForward(model, Shapes, batches: 3);
        using var state = model.StateDictOf();
        var weights = Weights(model);
        Assert.True(weights.Count >= 5, string.Join(", ", weights));

        var encodings = new Dictionary<string, TensorEncoding>();
        var expected = new Dictionary<string, Tensor>();
        string[] kinds = ["fp32", "uniform-4-256", "absmax-3-64", "points-quantile-3", "lsq-4", "uniform-2-none"];
        for (var i = 0; i < weights.Count; i++)
        {
            var (encoding, value) = Direct(kinds[i % kinds.Length], state[weights[i]]);
            if (encoding is not FullPrecisionEncoding)
                encodings[weights[i]] = encoding;
            expected[weights[i]] = value;
        }
        var counters = state.Where(kv => kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(counters);
        Assert.All(counters, kv => Assert.Equal(3L, kv.Value.AsInt64()));

        var description = Describe("cifar-student-3", Shapes, width: 0.5, dataset: "shapes",
            normalization: new Normalization([0.25f, 0.5f, 0.75f], [0.2f, 0.3f, 0.4f])) with { Seed = 42, ValidationSplit = 0.1 };
        var path = PathOf("student.qsc");
        CompressedCheckpoint.Save(path, model, description, encodings);

        using var loaded = CompressedCheckpoint.Load(path);
        using var restored = loaded.Model.StateDictOf();
        Assert.Equal(state.Keys, restored.Keys);
        foreach (var (name, value) in restored)
            AssertBitwiseEqual(expected.GetValueOrDefault(name) ?? state[name], value, name);
        Assert.Contains(restored, kv => kv.Key.EndsWith("running_var", StringComparison.Ordinal) && kv.Value.data<float>().ToArray().Any(v => v != 1f));
    }

    [Fact]
    public void The_description_round_trips_field_by_field()
    {
        using var model = Create("lenet5", Mnist);
        var description = new CompressedModelDescription("lenet5", 1, 1, Mnist, "fashion-mnist", new Normalization([0.2860f], [0.3530f]),
            new QuantizationSpec { Bits = 3, BucketSize = null, Scheme = "absmax", QuantizeFirstLast = true, ActivationBits = 8, PointInit = "uniform" },
            Methods.DifferentiableQuantization) { Seed = -5, ValidationSplit = 0.25, Vocabulary = null };
        var path = PathOf("d.qsc");
        CompressedCheckpoint.Save(path, model, description, new Dictionary<string, TensorEncoding>());

        var d = CompressedCheckpoint.Read(path).Description;
        Assert.Equal(description.Arch, d.Arch);
        Assert.Equal(description.Width, d.Width);
        Assert.Equal(description.Depth, d.Depth);
        Assert.Equal(description.Input, d.Input);
        Assert.Equal(description.Dataset, d.Dataset);
        Assert.Equal(description.Normalization!.Mean, d.Normalization!.Mean);
        Assert.Equal(description.Normalization.Std, d.Normalization.Std);
        Assert.Equal(description.Quantization, d.Quantization);
        Assert.Equal(description.Method, d.Method);
        Assert.Equal(-5, d.Seed);
        Assert.Equal(0.25, d.ValidationSplit);
        Assert.Null(d.Vocabulary);
    }

    [Fact]
    public void Character_lstm_round_trips_with_its_vocabulary()
    {
        using var scope = torch.NewDisposeScope();
        var input = Core.Models.InputShape.Text(12);
        using var model = Create("char-lstm", input, width: 0.25);
        using var state = model.StateDictOf();
        var encodings = Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 64, "uniform"));
        Assert.NotEmpty(encodings);
        var description = new CompressedModelDescription("char-lstm", 0.25, 1, input, "text-synthetic", null, new QuantizationSpec(), Methods.Qat)
            { Vocabulary = "abcdefghij .", Seed = 3 };
        var path = PathOf("lm.qsc");
        CompressedCheckpoint.Save(path, model, description, encodings);

        using var loaded = CompressedCheckpoint.Load(path);
        Assert.Equal("abcdefghij .", loaded.Description.Vocabulary);
        Assert.Null(loaded.Description.Normalization);
        using var restored = loaded.Model.StateDictOf();
        foreach (var (name, value) in restored)
        {
            if (!encodings.ContainsKey(name))
            {
                AssertBitwiseEqual(state[name], value, name);
                continue;
            }
            using var q = new BucketedQuantizer(new QuantizerSettings(4, 64)).Quantize(state[name]);
            AssertBitwiseEqual(q.Dequantized, value, name);
        }
    }

    [Theory]
    [InlineData(CodeEncodingPolicy.Packed)]
    [InlineData(CodeEncodingPolicy.Huffman)]
    [InlineData(CodeEncodingPolicy.Smaller)]
    public void Every_code_encoding_loads_the_same_values(CodeEncodingPolicy policy)
    {
        using var model = Create("lenet5", Mnist);
        var encodings = Weights(model).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 256, "uniform"));
        encodings["classifier.fc3.weight"] = new LsqEncoding(3, 0.02f);
        encodings["features.conv1.weight"] = new PointsEncoding([0f, 0.3f, 0.5f, 0.6f, 1f], 32);
        var reference = PathOf("packed.qsc");
        CompressedCheckpoint.Save(reference, model, Describe("lenet5", Mnist), encodings, CodeEncodingPolicy.Packed);
        var path = PathOf($"{policy}.qsc");
        var info = CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist), encodings, policy);

        var quantized = info.Tensors.Where(t => t.Sizes is not null).ToList();
        Assert.Equal(encodings.Count, quantized.Count);
        Assert.All(quantized, t => Assert.Equal(policy switch
        {
            CodeEncodingPolicy.Packed => CodeEncoding.Packed,
            CodeEncodingPolicy.Huffman => CodeEncoding.Huffman,
            _ => t.Sizes!.Encoding,
        }, t.Encoding));

        using var a = CompressedCheckpoint.Read(reference).Dequantize();
        using var b = CompressedCheckpoint.Read(path).Dequantize();
        foreach (var (name, value) in a)
            AssertBitwiseEqual(value, b[name], name);
    }

    [Fact]
    public void Save_rejects_what_it_could_not_load_back()
    {
        using var model = Create("lenet5", Mnist);
        var path = PathOf("bad.qsc");
        var none = new Dictionary<string, TensorEncoding>();

        var wrongWidth = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist, width: 2), none));
        Assert.Contains("shape mismatch: tensor 'features.conv1.weight'", wrongWidth.Message);
        var unknownArch = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet7", Mnist), none));
        Assert.Contains("unknown architecture 'lenet7'", unknownArch.Message);
        var typo = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist),
            new Dictionary<string, TensorEncoding> { ["features.conv9.weight"] = new UniformEncoding(4, 256, "uniform") }));
        Assert.Contains("features.conv9.weight", typo.Message);
        var scheme = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist),
            new Dictionary<string, TensorEncoding> { ["features.conv1.weight"] = new UniformEncoding(4, 256, "log") }));
        Assert.Contains("scheme 'log'", scheme.Message);
        var points = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist),
            new Dictionary<string, TensorEncoding> { ["features.conv1.weight"] = new PointsEncoding([0f, 0.7f, 0.2f], 64) }));
        Assert.Contains("sorted", points.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CompressedCheckpoint.Save(path, model, Describe("lenet5", Mnist),
            new Dictionary<string, TensorEncoding> { ["features.conv1.weight"] = new LsqEncoding(4, 0f) }));
        Assert.False(File.Exists(path));
    }
}
