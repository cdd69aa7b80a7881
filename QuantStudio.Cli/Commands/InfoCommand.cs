using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Cli.Commands;

/// <summary>`quantstudio info`: the libtorch engine, threads and CPU features.</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "show the libtorch engine, threads and CPU features";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}");
        return 0;
    }
}
