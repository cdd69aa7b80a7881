using QuantStudio.Torch;

// `quantstudio` — headless runs. Subcommands arrive with the quantization and training libraries.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("quantstudio — compress neural networks by distillation and quantization");
    Console.WriteLine();
    Console.WriteLine("usage: quantstudio <command> [options]");
    Console.WriteLine("  info        show the libtorch engine, threads and CPU features");
    return 0;
}

switch (args[0])
{
    case "info":
        Console.WriteLine($"libtorch {torch.version}, threads {torch.get_num_threads()}, cuda {torch.cuda.is_available()}, native bf16 {CpuFeatures.HasNativeBf16}");
        return 0;
    default:
        Console.Error.WriteLine($"quantstudio: unknown command '{args[0]}' (see quantstudio --help)");
        return 2;
}
