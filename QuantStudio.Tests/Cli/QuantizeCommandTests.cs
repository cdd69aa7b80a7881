using System.Text.Json;
using QuantStudio.Cli.Commands;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Cli;

public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("qs-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    private static (int Code, string Out, string Err) Run(ICommand command, params string[] args) => CommandRuns.Run(command, args);

    private string WriteWeights(string name = "w.safetensors")
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(99);
        var path = PathOf(name);
        Safetensors.Save(path, new OrderedDictionary<string, Tensor>
        {
            ["fc1.weight"] = torch.randn(1000, 400),
            ["fc1.bias"] = torch.randn(300) * 0.1,
            ["conv.weight"] = torch.randn(16, 3, 3, 3),
            ["bn.num_batches_tracked"] = torch.tensor(new[] { 42L }, []),
            ["head.weight64"] = torch.randn([10, 100], ScalarType.Float64),
        });
        return path;
    }

    [Theory]
    [InlineData("--bits", "4", "--bucket", "256")]
    [InlineData("--bits", "2", "--bucket", "none", "--scheme", "absmax", "--rounding", "stochastic", "--seed", "7")]
    [InlineData("--bits", "1", "--bucket", "100")]
    [InlineData("--bits", "8", "--bucket", "64", "--rounding", "stochastic")]
    public void Quantize_then_unpack_restores_exactly_what_out_wrote(params string[] options)
    {
        var input = WriteWeights();
        string q = PathOf("q.safetensors"), packed = PathOf("q.qsw"), restored = PathOf("d.safetensors");
        var (code, stdout, stderr) = Run(new QuantizeCommand(), ["--in", input, .. options, "--out", q, "--packed", packed]);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        var (code2, _, stderr2) = Run(new UnpackCommand(), packed, "--out", restored);
        Assert.True(code2 == 0, stderr2);
        Assert.Equal(File.ReadAllBytes(q), File.ReadAllBytes(restored));

        // The JSON matches the file on disk: exactly with headers, within 1% without.
        using var json = JsonDocument.Parse(stdout);
        var total = json.RootElement.GetProperty("total");
        var onDisk = new FileInfo(packed).Length;
        Assert.Equal(onDisk, json.RootElement.GetProperty("qsw_bytes").GetInt64());
        var stored = total.GetProperty("stored_bytes").GetInt64();
        Assert.InRange(Math.Abs(onDisk - stored) / (double)onDisk, 0, 0.01);
        // Each tensor stores its smaller encoding, so the total can only beat either encoding alone.
        Assert.True(stored <= Math.Min(total.GetProperty("packed_bytes").GetInt64(), total.GetProperty("huffman_bytes").GetInt64()));
        Assert.Equal(new[] { "bn.num_batches_tracked" }, json.RootElement.GetProperty("unquantized").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Json_sizes_follow_the_hand_computed_layout()
    {
        var input = WriteWeights();
        var (code, stdout, stderr) = Run(new QuantizeCommand(), "--in", input, "--bits", "4");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var fc1 = json.RootElement.GetProperty("tensors").GetProperty("fc1.weight");
        // 400000 weights → 1563 buckets of 256 (the last half full); 4-bit codes = 200000 bytes, α and β = 1563·8.
        Assert.Equal(1_600_000, fc1.GetProperty("fp32_bytes").GetInt64());
        Assert.Equal(200_000 + 1563 * 8, fc1.GetProperty("packed_bytes").GetInt64());
        var huffman = fc1.GetProperty("huffman_bytes").GetInt64();
        var meanBits = fc1.GetProperty("huffman_mean_bits").GetDouble();
        // Stream + 16-byte table + scales.
        Assert.InRange(huffman - (400_000 * meanBits / 8 + 16 + 1563 * 8), -0.5, 1.5); // mean bits is printed to 6 decimals
        var stored = Math.Min(huffman, 200_000 + 1563 * 8);
        Assert.Equal(1_600_000.0 / stored, fc1.GetProperty("compression_ratio").GetDouble(), 5);
        var totals = json.RootElement.GetProperty("total");
        Assert.Equal((400_000 + 300 + 432 + 1000) * 4, totals.GetProperty("fp32_bytes").GetInt64());
        Assert.False(json.RootElement.GetProperty("tensors").TryGetProperty("bn.num_batches_tracked", out _));
    }

    [Fact]
    public void Out_holds_the_quantizers_float32_output_with_the_same_names_and_shapes()
    {
        var input = WriteWeights();
        var q = PathOf("q.safetensors");
        Assert.Equal(0, Run(new QuantizeCommand(), "--in", input, "--bits", "3", "--bucket", "128", "--out", q).Code);
        using var original = Safetensors.Read(input);
        using var written = Safetensors.Read(q);
        Assert.Equal(original.Tensors.Keys, written.Tensors.Keys);
        var quantizer = new BucketedQuantizer(new QuantizerSettings(3, 128));
        foreach (var (name, t) in original.Tensors)
        {
            Assert.Equal(t.shape, written.Tensors[name].shape);
            if (!t.dtype.IsFloatingPoint())
            {
                Assert.Equal(t.data<long>().ToArray(), written.Tensors[name].data<long>().ToArray());
                continue;
            }
            Assert.Equal(ScalarType.Float32, written.Tensors[name].dtype);
            using var expected = quantizer.Quantize(t);
            Assert.Equal(expected.Dequantized.data<float>().ToArray(), written.Tensors[name].data<float>().ToArray());
        }
    }

    [Fact]
    public void Bad_input_gives_one_line_on_stderr_and_a_non_zero_exit()
    {
        var good = WriteWeights();
        var notSafetensors = PathOf("notes.txt");
        File.WriteAllText(notSafetensors, "these are not weights, just some text in a file");
        var truncated = PathOf("truncated.safetensors");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 100)]);
        var withNaN = PathOf("nan.safetensors");
        var withInf = PathOf("inf.safetensors");
        using (var t = torch.tensor(new[] { 1f, float.NaN, 2f }))
            Safetensors.Save(withNaN, [new("layer.weight", t)]);
        using (var t = torch.tensor(new[] { 1f, float.PositiveInfinity, float.NegativeInfinity }))
            Safetensors.Save(withInf, [new("layer.weight", t)]);

        (string[] Args, string Expected)[] cases =
        [
            (["--in", PathOf("missing.safetensors"), "--bits", "4"], "no such file"),
            (["--in", notSafetensors, "--bits", "4"], "not a valid safetensors file"),
            (["--in", truncated, "--bits", "4"], "truncated"),
            (["--in", good, "--bits", "0"], "--bits must be an integer in 1..8"),
            (["--in", good, "--bits", "9"], "--bits must be an integer in 1..8"),
            (["--in", good, "--bits", "four"], "--bits must be an integer in 1..8"),
            (["--in", good, "--bits", "4", "--bucket", "0"], "--bucket must be an integer in 1.."),
            (["--in", good, "--bits", "4", "--bucket", "-5"], "--bucket must be an integer in 1.."),
            (["--in", good, "--bits", "4", "--scheme", "log"], "--scheme must be one of uniform, absmax"),
            (["--in", good, "--bits", "1", "--scheme", "absmax"], "2..8"),
            (["--in", good, "--bits", "4", "--colour", "red"], "unknown option '--colour'"),
            (["--in", withNaN, "--bits", "4"], "'layer.weight' holds 1 NaN or Inf value"),
            (["--in", withInf, "--bits", "4"], "'layer.weight' holds 2 NaN or Inf values"),
        ];
        foreach (var (args, expected) in cases)
        {
            var (code, stdout, stderr) = Run(new QuantizeCommand(), args);
            Assert.True(code != 0, string.Join(" ", args));
            Assert.Equal("", stdout);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("quantstudio quantize: ", lines[0]);
            Assert.Contains(expected, lines[0]);
        }
    }

    [Fact]
    public void Unpack_rejects_missing_and_corrupt_files()
    {
        var input = WriteWeights();
        var packed = PathOf("q.qsw");
        Assert.Equal(0, Run(new QuantizeCommand(), "--in", input, "--bits", "4", "--packed", packed).Code);
        var bytes = File.ReadAllBytes(packed);
        var cut = PathOf("cut.qsw");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);

        foreach (var (args, expected) in new (string[], string)[]
                 {
                     ([PathOf("none.qsw"), "--out", PathOf("d.safetensors")], "no such file"),
                     ([input, "--out", PathOf("d.safetensors")], "magic"),
                     ([cut, "--out", PathOf("d.safetensors")], "truncated"),
                     ([packed], "'--out' is required"),
                 })
        {
            var (code, _, stderr) = Run(new UnpackCommand(), args);
            Assert.NotEqual(0, code);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, stderr);
        }
        Assert.False(File.Exists(PathOf("d.safetensors")));
    }
}
