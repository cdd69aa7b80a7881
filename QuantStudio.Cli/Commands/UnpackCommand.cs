using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio unpack Q.qsw --out D.safetensors`: decodes a packed-weights file back into the
/// float32 tensors `quantize --out` wrote, bit for bit (integer tensors come back unchanged).
/// </summary>
public sealed class UnpackCommand : ICommand
{
    public const string Usage = "quantstudio unpack Q.qsw --out D.safetensors";

    public string Name => "unpack";
    public string Summary => "decode a .qsw file into dequantized safetensors";

    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args));

    private static int Execute(IReadOnlyList<string> args)
    {
        var a = CommandArguments.Parse(args, ["--out"]);
        if (a.Positionals.Count != 1)
            throw new UsageException($"expected one input file; usage: {Usage}");
        var input = a.Positionals[0];
        var output = a.Required("--out");
        if (!File.Exists(input))
            throw new InputException($"no such file '{input}'");

        List<QswBlock> blocks;
        try
        {
            blocks = QswFile.Read(input);
        }
        catch (QswFormatException e)
        {
            throw new InputException($"'{input}' is not a valid packed-weights file: {e.Message}");
        }

        using var scope = torch.NewDisposeScope();
        var tensors = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var block in blocks)
        {
            tensors.Add(block.Name, block switch
            {
                QuantizedBlock q => q.DequantizeTensor(),
                RawBlock r => r.ToTensor(),
                _ => throw new InputException($"tensor '{block.Name}': unsupported block"),
            });
        }
        Safetensors.Save(output, tensors);
        return 0;
    }
}
