using System.Text.Json;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio quantize`: quantizes every floating tensor of a safetensors file, writes the
/// dequantized weights and/or the packed form, and prints the size accounting as one JSON object.
/// </summary>
public sealed class QuantizeCommand : ICommand
{
    public const string Usage =
        "quantstudio quantize --in W.safetensors --bits B [--bucket K|none] [--scheme uniform|absmax] " +
        "[--rounding deterministic|stochastic] [--seed S] [--out Q.safetensors] [--packed Q.qsw]";

    private static readonly string[] Options = ["--in", "--bits", "--bucket", "--scheme", "--rounding", "--seed", "--out", "--packed"];

    private static readonly Dictionary<string, QuantizationScheme> Schemes = new()
    {
        ["uniform"] = QuantizationScheme.Uniform,
        ["absmax"] = QuantizationScheme.AbsMax,
    };

    private static readonly Dictionary<string, Core.Quantization.RoundingMode> Roundings = new()
    {
        ["deterministic"] = Core.Quantization.RoundingMode.Deterministic,
        ["stochastic"] = Core.Quantization.RoundingMode.Stochastic,
    };

    public string Name => "quantize";
    public string Summary => "quantize a safetensors file; print sizes as JSON";

    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stdout));

    private static int Execute(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = CommandArguments.Parse(args, Options);
        if (a.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var settings = ReadSettings(a);
        var input = a.Required("--in");
        var outPath = a.Optional("--out");
        var packedPath = a.Optional("--packed");

        using var content = LoadInput(input);
        var blocks = new List<QswBlock>(content.Tensors.Count);
        var dequantized = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        var quantizer = new BucketedQuantizer(settings);
        try
        {
            foreach (var (name, tensor) in content.Tensors)
            {
                if (!tensor.dtype.IsFloatingPoint())
                {
                    // Integer buffers (step counters, indices) are kept as they are.
                    blocks.Add(RawBlock.Of(name, tensor));
                    dequantized.Add(name, tensor.alias());
                    continue;
                }
                RequireFinite(name, tensor);
                using var q = quantizer.Quantize(tensor);
                blocks.Add(QuantizedBlock.From(name, q));
                dequantized.Add(name, q.Dequantized.alias());
            }

            if (outPath is not null)
                Safetensors.Save(outPath, dequantized);
            if (packedPath is not null)
                QswFile.Write(packedPath, blocks);
        }
        finally
        {
            foreach (var t in dequantized.Values)
                t.Dispose();
        }

        WriteReport(stdout, settings, blocks);
        return 0;
    }

    private static QuantizerSettings ReadSettings(CommandArguments a)
    {
        var bits = a.Int("--bits", 1, 8);
        int? bucket = a.Optional("--bucket") == "none" ? null : a.Int("--bucket", 1, int.MaxValue, BucketLayout.DefaultBucketSize);
        var scheme = a.Choice("--scheme", Schemes, QuantizationScheme.Uniform);
        if (scheme == QuantizationScheme.AbsMax && bits < 2)
            throw new UsageException("--bits must be in 2..8 with --scheme absmax (one bit goes to the sign)");
        var rounding = a.Choice("--rounding", Roundings, Core.Quantization.RoundingMode.Deterministic);
        var seed = a.UInt64("--seed", 0);
        return new QuantizerSettings(bits, bucket, scheme, rounding, seed);
    }

    private static SafetensorsContent LoadInput(string path)
    {
        if (!File.Exists(path))
            throw new InputException($"--in: no such file '{path}'");
        try
        {
            return Safetensors.Read(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw new InputException($"--in: '{path}' is not a valid safetensors file: {e.Message}");
        }
    }

    private static void RequireFinite(string name, Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        var bad = tensor.isfinite().logical_not().to_type(ScalarType.Int64).sum().AsInt64();
        if (bad > 0)
            throw new InputException($"tensor '{name}' holds {bad} NaN or Inf value{(bad == 1 ? "" : "s")}; quantization needs finite weights");
    }

    private static void WriteReport(TextWriter stdout, QuantizerSettings settings, List<QswBlock> blocks)
    {
        var quantized = blocks.OfType<QuantizedBlock>().ToList();
        var report = new SizeReport(quantized.Select(b => b.Sizes).ToList());
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("bits", settings.Bits);
            if (settings.BucketSize is { } k)
                w.WriteNumber("bucket", k);
            else
                w.WriteString("bucket", "none");
            w.WriteString("scheme", settings.Scheme == QuantizationScheme.Uniform ? "uniform" : "absmax");
            w.WriteString("rounding", settings.Rounding == Core.Quantization.RoundingMode.Deterministic ? "deterministic" : "stochastic");
            w.WriteStartObject("tensors");
            foreach (var b in quantized)
            {
                w.WriteStartObject(b.Name);
                w.WriteNumber("count", b.Sizes.Count);
                WriteSizes(w, b.Sizes.Fp32Bytes, b.Sizes.PackedBytes, b.Sizes.HuffmanBytes, b.Sizes.HuffmanMeanBits, b.Sizes.StoredBytes,
                    b.Sizes.CompressionRatio, b.Sizes.PackedCompressionRatio, b.Sizes.BitsPerWeight);
                w.WriteString("encoding", b.Encoding == CodeEncoding.Huffman ? "huffman" : "packed");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("total");
            w.WriteNumber("count", report.Count);
            WriteSizes(w, report.Fp32Bytes, report.PackedBytes, report.HuffmanBytes, report.HuffmanMeanBits, report.StoredBytes,
                report.CompressionRatio, report.PackedCompressionRatio, report.BitsPerWeight);
            w.WriteEndObject();
            w.WriteStartArray("unquantized");
            foreach (var b in blocks.OfType<RawBlock>())
                w.WriteStringValue(b.Name);
            w.WriteEndArray();
            // The exact size of the .qsw file: stored bytes plus per-tensor headers and raw tensors.
            w.WriteNumber("qsw_bytes", QswFile.SerializedSize(blocks));
            w.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteSizes(Utf8JsonWriter w, long fp32, long packed, long huffman, double meanBits, long stored, double ratio, double packedRatio, double bitsPerWeight)
    {
        w.WriteNumber("fp32_bytes", fp32);
        w.WriteNumber("packed_bytes", packed);
        w.WriteNumber("huffman_bytes", huffman);
        w.WriteNumber("huffman_mean_bits", Math.Round(meanBits, 6));
        w.WriteNumber("stored_bytes", stored);
        w.WriteNumber("compression_ratio", Math.Round(ratio, 6));
        w.WriteNumber("packed_compression_ratio", Math.Round(packedRatio, 6));
        w.WriteNumber("bits_per_weight", Math.Round(bitsPerWeight, 6));
    }
}
