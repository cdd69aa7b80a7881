using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Cli.Commands;

/// <summary>`quantstudio info`: the libtorch engine, threads and CPU features.</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "show the libtorch engine, threads and CPU features";
    public string UsageLine => "quantstudio info";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () =>
        {
            if (args.Count > 0)
                throw new CommandLine.UsageException($"unexpected argument '{args[0]}'; usage: {UsageLine}");
            Print(stdout);
            return 0;
        });

    private static void Print(TextWriter stdout)
    {
        stdout.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}");
    }
}
