using QuantStudio.Cli.Commands;

// `quantstudio` — headless runs. One class per command under Commands/.
// libtorch's environment first: it reads some settings once, at its first use.
QuantStudio.Core.Engine.NativeEnvironment.Initialize();
ICommand[] commands = [new InfoCommand(), new TrainCommand(), new QuantizeCommand(), new UnpackCommand(), new EvalCommand(), new ExportCommand(), new SweepCommand(),
    new WorkerCommand()];

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("quantstudio — compress neural networks by distillation and quantization");
    Console.WriteLine();
    Console.WriteLine("usage: quantstudio <command> [options]");
    foreach (var c in commands)
        Console.WriteLine($"  {c.Name,-10}  {c.Summary}");
    Console.WriteLine();
    Console.WriteLine($"  {TrainCommand.Usage}");
    Console.WriteLine($"  {QuantizeCommand.Usage}");
    Console.WriteLine($"  {UnpackCommand.Usage}");
    Console.WriteLine($"  {EvalCommand.Usage}");
    Console.WriteLine($"  {ExportCommand.Usage}");
    Console.WriteLine($"  {SweepCommand.Usage}");
    Console.WriteLine($"  {WorkerCommand.Usage}");
    return 0;
}

var command = commands.FirstOrDefault(c => c.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine($"quantstudio: unknown command '{args[0]}' (see quantstudio --help)");
    return 2;
}
// libtorch in a host process may start with one intra-op thread; use the machine.
TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
// A training process keeps the activations it frees for the next step instead of handing them back to
// the kernel and page-faulting them in again (see bench/README.md, engine/). The web app, a long-lived
// server, keeps the C library's defaults.
if (command is TrainCommand or SweepCommand or WorkerCommand)
    QuantStudio.Core.Engine.NativeMemory.RetainFreedMemory();
return command.Run(args[1..], Console.Out, Console.Error);
