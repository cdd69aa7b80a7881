using QuantStudio.Torch;

namespace QuantStudio.Cli.Commands;

/// <summary>`quantstudio info`: the libtorch engine, threads and CPU features.</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "show the libtorch engine, threads and CPU features";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine($"libtorch {torch.version}, threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}, native bf16 {CpuFeatures.HasNativeBf16}");
        return 0;
    }
}
