using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Models;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using static QuantStudio.Tests.Checkpoints.CheckpointFixtures;

namespace QuantStudio.Tests.Checkpoints;

/// <summary>
/// The activation quantizers of a QKD / QAT checkpoint: stored in the description, installed by Load,
/// and computing what a hand evaluation of the LSQ formula and the training quantizers compute.
/// </summary>
public sealed class ActivationQuantizerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-qsc-act-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    // flatten → fc1 (4 → 4) → ReLU → classifier (4 → 3): small enough to evaluate by hand.
    private static readonly InputShape Tiny = InputShape.Image(1, 2, 2, 3);
    private const double TinyWidth = 4.0 / 256, TinyDepth = 0.5;

    // Steps are powers of two, so x/s is exact however it is computed and only the rounding rule decides.
    private static readonly ActivationQuantizer[] TinyQuantizers =
    [
        new("body.fc1", 3, 0.25f, Signed: true), // levels −4..3
        new("body.classifier", 4, 0.125f, Signed: false), // levels 0..15
    ];

    // Ties at ±k.5 steps (0.125 = 0.5·s, 0.375 = 1.5·s, −0.625 = −2.5·s) and values clipped at −4·s and 3·s.
    private static readonly float[] TinyInput =
    [
        0.125f, 0.375f, -0.625f, 2.0f,
        -3.0f, 0.1f, 0.7f, -0.2f,
        0.55f, -0.9f, 0.3f, 1.2f,
    ];

    private static Module<Tensor, Tensor> CreateTiny()
    {
        torch.manual_seed(5);
        return ModelZoo.Create("mlp", Tiny, TinyWidth, TinyDepth);
    }

    private static CompressedModelDescription DescribeTiny(IReadOnlyList<ActivationQuantizer> quantizers) =>
        new("mlp", TinyWidth, TinyDepth, Tiny, "mnist", null, new QuantizationSpec { Bits = 4, ActivationBits = 4 }, Methods.Qat)
        {
            ActivationQuantizers = quantizers,
        };

    /// <summary>Saves the tiny model (weights in float32, so only the activations are quantized).</summary>
    private string SaveTiny(Module<Tensor, Tensor> model, IReadOnlyList<ActivationQuantizer> quantizers, string name)
    {
        var path = PathOf(name);
        CompressedCheckpoint.Save(path, model, DescribeTiny(quantizers), new Dictionary<string, TensorEncoding>());
        return path;
    }

    /// <summary>round-half-even(clip(v/s, −Q_N, Q_P))·s in float32, written out.</summary>
    private static float Quantize(float v, float step, int bits, bool signed)
    {
        float qn = signed ? 1 << (bits - 1) : 0, qp = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        return MathF.Round(Math.Clamp(v / step, -qn, qp), MidpointRounding.ToEven) * step;
    }

    /// <summary>The tiny MLP evaluated in plain C#, each layer's input quantized when a quantizer is given.</summary>
    private static float[] HandForward(Module<Tensor, Tensor> model, float[] input, ActivationQuantizer? first, ActivationQuantizer? last)
    {
        using var state = model.StateDictOf();
        float[] w1 = state["body.fc1.weight"].data<float>().ToArray(), b1 = state["body.fc1.bias"].data<float>().ToArray();
        float[] w2 = state["body.classifier.weight"].data<float>().ToArray(), b2 = state["body.classifier.bias"].data<float>().ToArray();
        const int features = 4, hidden = 4, classes = 3;
        var n = input.Length / features;
        var output = new float[n * classes];
        for (var e = 0; e < n; e++)
        {
            var x = input.Skip(e * features).Take(features).Select(v => first is null ? v : Quantize(v, first.Step, first.Bits, first.Signed)).ToArray();
            var h = new float[hidden];
            for (var j = 0; j < hidden; j++)
            {
                var sum = b1[j];
                for (var k = 0; k < features; k++)
                    sum += w1[j * features + k] * x[k];
                h[j] = Math.Max(0, sum);
                if (last is not null)
                    h[j] = Quantize(h[j], last.Step, last.Bits, last.Signed);
            }
            for (var c = 0; c < classes; c++)
            {
                var sum = b2[c];
                for (var j = 0; j < hidden; j++)
                    sum += w2[c * hidden + j] * h[j];
                output[e * classes + c] = sum;
            }
        }
        return output;
    }

    private static float[] Run(Module<Tensor, Tensor> model, float[] input)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return model.call(torch.tensor(input, [input.Length / 4, 1, 2, 2])).data<float>().ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"output {i}: {actual[i]}, expected {expected[i]}");
    }

    private static float MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void Loaded_model_quantizes_layer_inputs_as_a_hand_evaluation_of_the_lsq_formula()
    {
        using var model = CreateTiny();
        var quantizedPath = SaveTiny(model, TinyQuantizers, "quantized.qsc");
        var plainPath = SaveTiny(model, [], "plain.qsc");

        var expected = HandForward(model, TinyInput, TinyQuantizers[0], TinyQuantizers[1]);
        var fullPrecision = HandForward(model, TinyInput, null, null);
        // The quantizers change the result well beyond rounding noise, so the comparisons below can tell them apart.
        Assert.True(MaxDifference(expected, fullPrecision) > 1e-2f, $"quantized and full-precision outputs differ by only {MaxDifference(expected, fullPrecision)}");

        using (var loaded = CompressedCheckpoint.Load(quantizedPath))
        {
            Assert.Equal(2, loaded.ActivationQuantizers.Count);
            AssertClose(expected, Run(loaded.Model, TinyInput));
        }
        using (var plain = CompressedCheckpoint.Load(plainPath))
        {
            Assert.Equal(0, plain.ActivationQuantizers.Count);
            var output = Run(plain.Model, TinyInput);
            AssertClose(fullPrecision, output);
            Assert.True(MaxDifference(expected, output) > 1e-2f);
        }
    }

    [Fact]
    public void The_rounding_is_half_to_even_on_the_first_layer_input()
    {
        using var model = CreateTiny();
        // Only the first layer quantized, with every input on a tie: half-away-from-zero would give other levels.
        var first = new ActivationQuantizer("body.fc1", 3, 0.25f, Signed: true);
        var path = SaveTiny(model, [first], "ties.qsc");
        float[] ties = [0.125f, 0.375f, -0.625f, -0.125f];
        float[] halfAway = [0.25f, 0.5f, -0.75f, -0.25f];

        using var loaded = CompressedCheckpoint.Load(path);
        var output = Run(loaded.Model, ties);
        AssertClose(HandForward(model, ties, first, null), output);
        Assert.True(MaxDifference(HandForward(model, halfAway, null, null), output) > 1e-4f, "the ties were rounded away from zero");
    }

    [Fact]
    public void A_caller_that_keeps_only_the_model_still_gets_quantized_activations()
    {
        using var model = CreateTiny();
        var path = SaveTiny(model, TinyQuantizers, "model-only.qsc");
        var expected = HandForward(model, TinyInput, TinyQuantizers[0], TinyQuantizers[1]);

        using var kept = LoadModelOnly(path);
        // The LoadedCompressedModel is garbage now; its hooks and steps must live on with the model.
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        AssertClose(expected, Run(kept, TinyInput));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Module<Tensor, Tensor> LoadModelOnly(string path)
    {
        using var scope = torch.NewDisposeScope();
        return CompressedCheckpoint.Load(path).Model;
    }

    [Fact]
    public void Disposing_the_hooks_gives_back_the_full_precision_model()
    {
        using var model = CreateTiny();
        var path = SaveTiny(model, TinyQuantizers, "removed.qsc");
        using var loaded = CompressedCheckpoint.Load(path);
        loaded.ActivationQuantizers.Dispose();
        Assert.Equal(0, loaded.ActivationQuantizers.Count);
        AssertClose(HandForward(model, TinyInput, null, null), Run(loaded.Model, TinyInput));
    }

    [Fact]
    public void A_channels_last_input_reaches_the_layer_quantized_and_still_channels_last()
    {
        using var model = Create("cifar-student-3", Shapes);
        var path = PathOf("student.qsc");
        var quantizer = new ActivationQuantizer("features.conv2", 2, 0.5f, Signed: false);
        var description = new CompressedModelDescription("cifar-student-3", 1, 1, Shapes, "shapes", null, new QuantizationSpec(), Methods.Qat)
        {
            ActivationQuantizers = [quantizer],
        };
        CompressedCheckpoint.Save(path, model, description, new Dictionary<string, TensorEncoding>());

        using var loaded = CompressedCheckpoint.Load(path);
        var conv2 = (Module<Tensor, Tensor>)loaded.Model.named_modules().Single(m => m.name == "features.conv2").module;
        float[]? seen = null;
        bool channelsLast = false, arrivedChannelsLast = false;
        var pool1 = (Module<Tensor, Tensor>)loaded.Model.named_modules().Single(m => m.name == "features.pool1").module;
        using var before = pool1.AddOutputObserver(y => arrivedChannelsLast = y.IsChannelsLast());
        // Registered after Load's hook, so it sees the quantized input.
        using var probe = conv2.AddInputTransform(x =>
        {
            seen = x.contiguous().data<float>().ToArray();
            channelsLast = x.IsChannelsLast();
            return null;
        });
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            torch.manual_seed(2);
            loaded.Model.call(torch.randn([4, 3, 32, 32]).ToChannelsLast());
        }

        // What conv2 receives comes out of pool1 channels_last, and the quantizer keeps it so.
        Assert.True(arrivedChannelsLast, "pool1's output is not channels_last");
        Assert.True(channelsLast);
        Assert.NotNull(seen);
        // Unsigned 2 bits: the levels 0, 1, 2, 3 times the step, and all four occur.
        Assert.All(seen, v => Assert.Contains(v, new[] { 0f, 0.5f, 1f, 1.5f }));
        Assert.Equal(4, seen.Distinct().Count());
    }

    [Fact]
    public void Loaded_model_computes_bit_for_bit_what_the_training_quantizers_compute_in_eval_mode()
    {
        using var scope = torch.NewDisposeScope();
        using var student = Create("cifar-student-3", Shapes);
        var spec = new QuantizationSpec { Bits = 4, ActivationBits = 3 };
        using var quantizers = new LsqQuantizers(student, spec);
        torch.manual_seed(11);
        var calibration = torch.randn([16, 3, 32, 32]).ToChannelsLast();
        quantizers.Calibrate(student, calibration);
        quantizers.Install();
        var stored = quantizers.ActivationQuantizers();
        Assert.Equal(["features.conv2", "features.conv3", "features.conv4", "classifier.fc1", "classifier.classifier"], stored.Select(q => q.Layer));
        Assert.Equal([3, 3, 3, 3, 8], stored.Select(q => q.Bits));
        // Every quantized input follows a ReLU, so calibration found them unsigned.
        Assert.All(stored, q => Assert.False(q.Signed));

        var path = PathOf("lsq.qsc");
        var description = new CompressedModelDescription("cifar-student-3", 1, 1, Shapes, "shapes", null, spec, Methods.Qat) { ActivationQuantizers = stored };
        CompressedCheckpoint.Save(path, student, description, quantizers.Encodings());
        using var loaded = CompressedCheckpoint.Load(path);

        using var noGrad = torch.no_grad();
        torch.manual_seed(12);
        var input = torch.randn([8, 3, 32, 32]).ToChannelsLast();
        student.eval();
        var trained = student.call(input);
        AssertBitwiseEqual(trained, loaded.Model.call(input), "logits");
        // Without its activation quantizers the loaded network computes something else.
        loaded.ActivationQuantizers.Dispose();
        Assert.NotEqual(Bits(trained), Bits(loaded.Model.call(input)));
    }

    [Fact]
    public void The_description_field_round_trips_as_snake_case_json_and_is_absent_without_quantizers()
    {
        using var model = CreateTiny();
        ActivationQuantizer[] quantizers = [new("body.fc1", 5, 0.0123f, Signed: true), new("body.classifier", 8, 3.4e-5f, Signed: false)];
        var path = SaveTiny(model, quantizers, "fields.qsc");
        var plainPath = SaveTiny(model, [], "none.qsc");

        Assert.Equal(quantizers, CompressedCheckpoint.Read(path).Description.ActivationQuantizers);
        var json = DescriptionJson(path);
        Assert.Contains("\"activation_quantizers\":[{\"layer\":\"body.fc1\",\"bits\":5,\"step\":0.0123,\"signed\":true},", json);
        Assert.Empty(CompressedCheckpoint.Read(plainPath).Description.ActivationQuantizers);
        Assert.DoesNotContain("activation_quantizers", DescriptionJson(plainPath));
    }

    private static string DescriptionJson(string path)
    {
        var data = File.ReadAllBytes(path);
        return Encoding.UTF8.GetString(data, 20, BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(16)));
    }

    public static TheoryData<string, string> BadQuantizers => new()
    {
        { "features.conv9/4/0.1/false", "activation_quantizers[0].layer: 'features.conv9' is not a module of lenet5" },
        { "features.pool1/4/0.1/false", "activation_quantizers[0].layer: 'features.pool1' is a MaxPool2d, not a Conv2d or Linear" },
        { "/4/0.1/false", "activation_quantizers[0].layer: the layer name is empty" },
        { "features.conv2/9/0.1/false", "activation_quantizers[0].bits: 9 bits for layer 'features.conv2'; allowed 2..8" },
        { "features.conv2/1/0.1/true", "activation_quantizers[0].bits: 1 bits for layer 'features.conv2'; allowed 2..8" },
        { "features.conv2/4/0/false", "activation_quantizers[0].step: step 0 for layer 'features.conv2' is not positive and finite" },
        { "features.conv2/4/-0.5/false", "activation_quantizers[0].step: step -0.5 for layer 'features.conv2' is not positive and finite" },
        { "features.conv2/4/Infinity/false", "activation_quantizers[0].step: step Infinity for layer 'features.conv2' is not positive and finite" },
    };

    private static ActivationQuantizer Parse(string entry)
    {
        var f = entry.Split('/');
        return new ActivationQuantizer(f[0], int.Parse(f[1]), float.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), bool.Parse(f[3]));
    }

    [Theory]
    [MemberData(nameof(BadQuantizers))]
    public void Save_refuses_an_activation_quantizer_it_could_not_load_back(string entry, string message)
    {
        using var model = Create("lenet5", Mnist);
        var path = PathOf("refused.qsc");
        var description = Describe("lenet5", Mnist) with { ActivationQuantizers = [Parse(entry)] };
        var e = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(path, model, description, new Dictionary<string, TensorEncoding>()));
        Assert.Contains(message, e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Save_refuses_a_layer_named_twice()
    {
        using var model = Create("lenet5", Mnist);
        var q = new ActivationQuantizer("features.conv2", 4, 0.1f, false);
        var e = Assert.Throws<ArgumentException>(() => CompressedCheckpoint.Save(PathOf("twice.qsc"), model,
            Describe("lenet5", Mnist) with { ActivationQuantizers = [q, q with { Bits = 3 }] }, new Dictionary<string, TensorEncoding>()));
        Assert.Contains("activation_quantizers[1].layer: layer 'features.conv2' has more than one activation quantizer", e.Message);
    }
}
