using System.Globalization;
using Google.Protobuf;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Compression;
using TorchSharp;
using DataType = Onnx.TensorProto.Types.DataType;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>How an ONNX export stores the quantized weights.</summary>
public enum OnnxWeightFormat
{
    /// <summary>The dequantized weights as float32 initializers: runs on any ONNX consumer.</summary>
    Float,

    /// <summary>The codes at their bit width (4-bit types up to 4 bits, 8-bit above) with per-bucket scales, dequantized in the graph.</summary>
    LowBit,
}

/// <summary>An exported model: the ONNX bytes and the sizes to report next to the checkpoint's.</summary>
/// <param name="QscFileBytes">The source checkpoint's file size.</param>
/// <param name="PackedBytes">The checkpoint's packed_bytes: its quantized tensors with packed codes and their scales.</param>
/// <param name="RunPackedBytes">A run's packed_bytes (summary.json): those plus every other float32 tensor at 4 bytes per element.</param>
public sealed record OnnxExport(byte[] Model, OnnxWeightFormat Format, string Arch, long QscFileBytes, long PackedBytes, long RunPackedBytes)
{
    public long FileBytes => Model.LongLength;
}

/// <summary>
/// Exports a compressed checkpoint's model to ONNX (opset 21): the inference graph of
/// <see cref="OnnxModelEmitter"/> with the input normalization in the graph, so the model takes pixels
/// in [0, 1] (N×C×H×W float32, input "input") or character ids (N×T int64) and returns logits ("logits").
/// docs/onnx-export.md describes the graph.
/// </summary>
public static class OnnxExporter
{
    public const int Opset = OnnxGraphBuilder.Opset;
    public const string InputName = "input";
    public const string OutputName = "logits";

    /// <summary>Reads and checks <paramref name="qscPath"/> (<see cref="CompressedCheckpointFormatException"/> when it is not a valid checkpoint) and exports it.</summary>
    public static OnnxExport Export(string qscPath, OnnxWeightFormat format)
    {
        var content = CompressedCheckpoint.Read(qscPath);
        using var loaded = CompressedCheckpoint.Load(qscPath);
        return Export(loaded, content, format);
    }

    /// <summary>Exports <paramref name="loaded"/>, whose stored blocks are <paramref name="content"/>'s.</summary>
    public static OnnxExport Export(LoadedCompressedModel loaded, CompressedCheckpointContent content, OnnxWeightFormat format)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(content);
        var d = loaded.Description;
        var blocks = content.Blocks.ToDictionary(b => b.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using (var scope = torch.NewDisposeScope())
        using (var state = content.Dequantize())
        {
            foreach (var (name, tensor) in state)
                if (tensor.dtype == torch.ScalarType.Float32)
                    values[name] = tensor.contiguous().data<float>().ToArray();
        }

        var graph = new OnnxGraphBuilder();
        string x;
        if (d.Input.IsText)
        {
            graph.Input(InputName, DataType.Int64, "batch", "sequence");
            x = InputName;
        }
        else
        {
            graph.Input(InputName, DataType.Float, "batch", (long)d.Input.Channels, (long)d.Input.Height, (long)d.Input.Width);
            x = Normalize(graph, d, InputName);
        }
        var emitter = new OnnxModelEmitter(graph, new OnnxWeightEmitter(graph, format, blocks, values), d.ActivationQuantizers);
        string logits;
        using (torch.no_grad())
            logits = emitter.Model(loaded.Model, x);
        graph.RenameLastOutput(logits, OutputName);
        if (d.Input.IsText)
            graph.Output(OutputName, DataType.Float, "batch", "sequence", (long)d.Input.Classes);
        else
            graph.Output(OutputName, DataType.Float, "batch", (long)d.Input.Classes);

        var model = graph.ToModel(typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0", Metadata(d, format));
        var floatBytes = content.Info.Tensors.Where(t => t.Kind == "fp32").Sum(t => t.DataBytes);
        return new OnnxExport(model.ToByteArray(), format, d.Arch, content.Info.FileBytes, content.Info.PackedBytes, content.Info.PackedBytes + floatBytes);
    }

    /// <summary>Exports <paramref name="qscPath"/> to <paramref name="onnxPath"/> (written atomically).</summary>
    public static OnnxExport ExportToFile(string qscPath, string onnxPath, OnnxWeightFormat format)
    {
        var export = Export(qscPath, format);
        var directory = Path.GetDirectoryName(Path.GetFullPath(onnxPath));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var temp = onnxPath + ".tmp";
        File.WriteAllBytes(temp, export.Model);
        File.Move(temp, onnxPath, overwrite: true);
        return export;
    }

    // (x − mean) / std per channel: the float32 expression of the data loader's lookup table, so pixels b/255 give the same inputs.
    private static string Normalize(OnnxGraphBuilder graph, CompressedModelDescription d, string x)
    {
        if (d.Normalization is not { } n)
            return x;
        long c = n.Channels;
        var centered = graph.Node("Sub", [x, graph.Floats("input.mean", [.. n.Mean], 1, c, 1, 1)]);
        return graph.Node("Div", [centered, graph.Floats("input.std", [.. n.Std], 1, c, 1, 1)]);
    }

    private static IEnumerable<KeyValuePair<string, string>> Metadata(CompressedModelDescription d, OnnxWeightFormat format)
    {
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        // Only what a reader needs to feed and score the model; sizes are reported by the exporter, not stored.
        var m = new Dictionary<string, string>
        {
            [OnnxMetadataKeys.Arch] = d.Arch,
            ["width"] = F(d.Width),
            ["depth"] = F(d.Depth),
            [OnnxMetadataKeys.Dataset] = d.Dataset,
            ["method"] = d.Method,
            ["weights"] = format == OnnxWeightFormat.LowBit ? "lowbit" : "float",
        };
        if (d.Seed is { } seed)
            m[OnnxMetadataKeys.Seed] = seed.ToString(CultureInfo.InvariantCulture);
        if (d.ValidationSplit is { } split)
            m[OnnxMetadataKeys.ValidationSplit] = F(split);
        if (d.Vocabulary is { } vocabulary)
            m[OnnxMetadataKeys.Vocabulary] = vocabulary;
        return m;
    }
}

/// <summary>The metadata_props keys an exported model carries and ONNX evaluation reads back.</summary>
public static class OnnxMetadataKeys
{
    public const string Arch = "arch";
    public const string Dataset = "dataset";
    public const string Seed = "seed";
    public const string ValidationSplit = "validation_split";
    public const string Vocabulary = "vocabulary";
}
