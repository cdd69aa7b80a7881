using System.Globalization;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Engine;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio export --model M.qsc --format safetensors --out F`: rebuilds the model from a
/// compressed checkpoint and writes its state_dict — the dequantized weights as float32, integer
/// buffers as stored — under PyTorch's names, so any safetensors reader can use the result.
/// Weights only: a QKD / QAT model's activation quantizers have no place in safetensors, so the
/// exported network computes with full-precision activations (the command says so when it drops them).
/// </summary>
public sealed class ExportCommand : ICommand
{
    public const string Usage = "quantstudio export --model M.qsc --format safetensors|onnx --out F [--weights float|lowbit]";

    private static readonly Dictionary<string, string> Formats = new() { ["safetensors"] = "safetensors", ["onnx"] = "onnx" };

    public string Name => "export";
    public string Summary => "write a .qsc model as ONNX (float or low-bit weights) or its dequantized weights as safetensors";

    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stdout));

    private static int Execute(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = CommandArguments.Parse(args, ["--model", "--format", "--out", "--weights"]);
        if (a.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var modelPath = a.Required("--model");
        var format = a.Choice("--format", Formats, "safetensors");
        var output = a.Required("--out");
        if (format == "onnx")
            return OnnxExportCommand.Execute(a, modelPath, output, stdout);
        if (a.Optional("--weights") is not null)
            throw new UsageException("--weights applies to --format onnx only");

        using var loaded = CheckpointInput.Load(modelPath);
        using var state = loaded.Model.StateDictOf();
        var d = loaded.Description;
        Safetensors.Save(output, state, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["arch"] = d.Arch,
            ["width"] = d.Width.ToString("R", CultureInfo.InvariantCulture),
            ["depth"] = d.Depth.ToString("R", CultureInfo.InvariantCulture),
            ["method"] = d.Method,
            ["dataset"] = d.Dataset,
        });
        var dropped = d.ActivationQuantizers.Count == 0 ? ""
            : $" (weights only: its {d.ActivationQuantizers.Count} activation quantizers are not representable in safetensors)";
        stdout.WriteLine($"wrote {state.Count} tensors of {d.Arch} to {output}{dropped}");
        return 0;
    }
}
