using System.Globalization;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Export.Onnx;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio export --format onnx`: the checkpoint's model as an ONNX inference graph (opset 21) with
/// float32 or low-bit weights, its activation quantizers in the graph. Prints the file size next to
/// the checkpoint's file and packed sizes.
/// </summary>
internal static class OnnxExportCommand
{
    private static readonly Dictionary<string, OnnxWeightFormat> WeightFormats = new()
    {
        ["float"] = OnnxWeightFormat.Float,
        ["lowbit"] = OnnxWeightFormat.LowBit,
    };

    public static int Execute(CommandArguments a, string modelPath, string output, TextWriter stdout)
    {
        var weights = a.Choice("--weights", WeightFormats, OnnxWeightFormat.Float);
        if (!File.Exists(modelPath))
            throw new InputException($"--model: no such file '{modelPath}'");
        OnnxExport export;
        try
        {
            export = OnnxExporter.ExportToFile(modelPath, output, weights);
        }
        catch (CompressedCheckpointFormatException e)
        {
            throw new InputException($"--model: '{modelPath}' is not a valid compressed checkpoint: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new InputException($"--model: '{modelPath}' cannot be exported to ONNX: {e.Message}");
        }
        string B(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        stdout.WriteLine(
            $"wrote {export.Arch} to {output} as ONNX (opset {OnnxExporter.Opset}, {(weights == OnnxWeightFormat.LowBit ? "lowbit" : "float")} weights): " +
            $"{B(export.FileBytes)} bytes; model.qsc {B(export.QscFileBytes)} bytes, packed_bytes {B(export.RunPackedBytes)} " +
            $"(ONNX / qsc = {(double)export.FileBytes / export.QscFileBytes:F2}, ONNX / packed_bytes = {(double)export.FileBytes / export.RunPackedBytes:F2})");
        return 0;
    }
}
