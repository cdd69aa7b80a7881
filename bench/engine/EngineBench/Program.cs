using System.Diagnostics;
using System.Globalization;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Bench.Engine;

/// <summary>
/// One SGD training step of the CIFAR-10 student through TorchSharp and QuantStudio's layers, the same
/// step as bench/engine/pytorch_step.py. Prints one line per configuration: <c>&lt;config&gt; samples_per_s=&lt;value&gt;</c>.
/// With <c>--efficiency</c> it prints instead the machine's fp32 GEMM rate and, per configuration, the
/// GFLOP/s the training step achieves as a fraction of it, both measured in this process.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        NativeEnvironment.Initialize();
        var options = Options.Parse(args);
        torch.set_num_threads(options.Threads);
        // What a QuantStudio training process does once: keep freed activations in the process
        // instead of page-faulting them in again every step (see NativeMemory.RetainFreedMemory).
        var retained = NativeMemory.RetainFreedMemory();
        Console.Error.WriteLine($"libtorch {torch.__version__} (TorchSharp), intra-op threads {torch.get_num_threads()}, freed memory retained: {retained}");
        try
        {
            if (options.Efficiency)
                return Efficiency(options);
            foreach (var config in options.Configs)
            {
                var rate = Run(config, options, out _);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{config} samples_per_s={rate:F1}"));
            }
        }
        catch (NonFiniteLossException ex)
        {
            // A step that computed garbage has no speed worth reporting.
            Console.Error.WriteLine($"EngineBench: {ex.Message}");
            return 1;
        }
        Console.Error.WriteLine("blas: " + LoadedBlas());
        return 0;
    }

    /// <summary>
    /// The step's achieved arithmetic rate against the best the machine's fp32 matrix multiply reaches
    /// through the same libtorch and thread count. Step FLOPs = 3 × forward FLOPs of the convolutions
    /// and linear layers (backward computes the input and the weight gradients, each about a forward).
    /// </summary>
    private static int Efficiency(Options o)
    {
        var peak = GemmPeak(o.GemmSize, repeats: 5);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gemm n={o.GemmSize} fp32 gflop_per_s={peak:F1} (best of 5)"));
        foreach (var config in o.Configs)
        {
            var rate = Run(config, o, out var forwardFlops);
            var stepGflop = 3.0 * forwardFlops * o.Batch / 1e9;
            var gflops = stepGflop * rate / o.Batch;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"config={config,-19} samples_per_s={rate,-8:F1} step_gflop={stepGflop:F3} gflop_per_s={gflops,-7:F1} fraction_of_gemm_peak={gflops / peak:F3}"));
        }
        Console.Error.WriteLine("blas: " + LoadedBlas());
        return 0;
    }

    /// <summary>GFLOP/s of an n×n by n×n float32 matrix product (2n³ FLOPs), best of <paramref name="repeats"/> after one warm-up.</summary>
    private static double GemmPeak(long n, int repeats)
    {
        torch.manual_seed(0);
        using var a = torch.randn(n, n);
        using var b = torch.randn(n, n);
        a.mm(b).Dispose(); // warm-up: starts the thread pool; the retained allocator reuses the output's memory
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            a.mm(b).Dispose();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    private static double Run(string config, Options o, out long forwardFlops)
    {
        var channelsLast = config.Contains("channels_last", StringComparison.Ordinal);
        var bf16 = config.Contains("bf16", StringComparison.Ordinal);
        if (config is not ("fp32" or "channels_last" or "bf16" or "bf16_channels_last"))
            throw new ArgumentException($"unknown configuration '{config}': expected fp32, channels_last, bf16 or bf16_channels_last");

        torch.manual_seed(0);
        using var student = new Student();
        forwardFlops = ModelStats.Measure(student, InputShape.Image(3, 32, 32, 10)).Flops;
        student.train();
        using var x = Input(torch.randn(o.Batch, 3, 32, 32), channelsLast);
        using var y = torch.randint(0, 10, [o.Batch]);
        using var sgd = Optimizers.SGD(student.parameters(), lr: 0.01, momentum: 0.9);

        Tensor Forward()
        {
            // Our mixed precision: the layers compute in bf16 from bf16 casts of their fp32 weights.
            using var precision = ComputePrecision.Bf16(bf16);
            return F.cross_entropy(student.call(x), y);
        }

        void Step()
        {
            using var scope = torch.NewDisposeScope();
            sgd.zero_grad();
            Forward().backward();
            sgd.step();
        }

        for (var i = 0; i < o.Warmup; i++)
            Step();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < o.Steps; i++)
            Step();
        sw.Stop();

        using (torch.NewDisposeScope())
        {
            var loss = Forward().AsDouble();
            if (!double.IsFinite(loss))
                throw new NonFiniteLossException($"{config}: the loss after the timed steps is not finite ({loss})");
        }
        return o.Batch * o.Steps / sw.Elapsed.TotalSeconds;
    }

    /// <summary>The input batch, in channels_last when asked (as the trainer prepares its inputs).</summary>
    private static Tensor Input(Tensor t, bool channelsLast)
    {
        if (!channelsLast)
            return t;
        using (t)
            return t.ToChannelsLast();
    }

    /// <summary>
    /// The BLAS shared objects mapped into this process. TorchSharp's libtorch carries its own BLAS
    /// linked in (no libblas.so.3), so a mapped OpenBLAS here is only the run script's preload.
    /// </summary>
    private static string LoadedBlas()
    {
        var mapped = File.ReadLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].Contains("blas", StringComparison.OrdinalIgnoreCase))
            .Select(f => f[5])
            .Distinct()
            .ToList();
        return (mapped.Count == 0 ? "none mapped" : string.Join(", ", mapped)) + " (libtorch's GEMM is its own, linked into libtorch_cpu.so)";
    }

    private sealed record Options(int Threads, int Batch, int Warmup, int Steps, string[] Configs, bool Efficiency, long GemmSize)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(2, 64, 5, 20, ["fp32", "channels_last", "bf16", "bf16_channels_last"], false, 2048);
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i] == "--efficiency")
                {
                    o = o with { Efficiency = true };
                    continue;
                }
                if (i + 1 >= args.Length)
                    throw new ArgumentException($"{args[i]} needs a value");
                var v = args[++i];
                o = args[i - 1] switch
                {
                    "--threads" => o with { Threads = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--warmup" => o with { Warmup = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--steps" => o with { Steps = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--configs" => o with { Configs = v.Split(',', StringSplitOptions.RemoveEmptyEntries) },
                    "--gemm-size" => o with { GemmSize = long.Parse(v, CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"unknown option {args[i - 1]}; options: --threads --batch --warmup --steps --configs --efficiency --gemm-size"),
                };
            }
            if (o.Threads < 1 || o.Batch < 1 || o.Steps < 1 || o.Warmup < 0 || o.GemmSize < 1)
                throw new ArgumentException("--threads, --batch, --steps and --gemm-size must be at least 1, --warmup at least 0");
            return o;
        }
    }
}

internal sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>
/// The student of pytorch_step.py from QuantStudio's layers: 5x5 convs 3→75→50→50→25 (padding 2, with
/// bias), each with BatchNorm and ReLU, max-pool after conv 1 and conv 3, then FC 1600→500 and 500→10.
/// The convolutions compute in channels_last whatever their input's layout (TransformableConv2d: libtorch
/// 2.10's NCHW convolution backward is unreliable on these CPUs), so the fp32 configuration converts its
/// input at the first convolution and runs channels_last from there, as a QuantStudio model does.
/// </summary>
internal sealed class Student : nn.Module<Tensor, Tensor>
{
    private readonly TransformableConv2d conv1, conv2, conv3, conv4;
    private readonly TorchSharp.Modules.BatchNorm2d bn1, bn2, bn3, bn4;
    private readonly TransformableLinear fc1, fc2;

    public Student() : base("Student")
    {
        conv1 = Layer.Conv2d(3, 75, 5, padding: 2);
        bn1 = nn.BatchNorm2d(75);
        conv2 = Layer.Conv2d(75, 50, 5, padding: 2);
        bn2 = nn.BatchNorm2d(50);
        conv3 = Layer.Conv2d(50, 50, 5, padding: 2);
        bn3 = nn.BatchNorm2d(50);
        conv4 = Layer.Conv2d(50, 25, 5, padding: 2);
        bn4 = nn.BatchNorm2d(25);
        fc1 = Layer.Linear(25 * 8 * 8, 500);
        fc2 = Layer.Linear(500, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        x = F.max_pool2d(F.relu(bn1.call(conv1.call(x))), 2);
        x = F.relu(bn2.call(conv2.call(x)));
        x = F.max_pool2d(F.relu(bn3.call(conv3.call(x))), 2);
        x = F.relu(bn4.call(conv4.call(x)));
        x = F.relu(fc1.call(x.flatten(1)));
        return scope.MoveToOuter(fc2.call(x));
    }
}
