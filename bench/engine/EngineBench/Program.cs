using System.Diagnostics;
using System.Globalization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Bench.Engine;

/// <summary>
/// One SGD training step of the CIFAR-10 student through the managed binding, the same step as
/// bench/engine/pytorch_step.py. Prints one line per configuration: <c>&lt;config&gt; samples_per_s=&lt;value&gt;</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var options = Options.Parse(args);
        torch.set_num_threads(options.Threads);
        // What a QuantStudio training process does once: keep freed activations in the process
        // instead of page-faulting them in again every step (see torch.retain_freed_memory).
        var retained = torch.retain_freed_memory();
        Console.Error.WriteLine($"libtorch {torch.version}, intra-op threads {torch.get_num_threads()}, native bf16: {CpuFeatures.HasNativeBf16}, freed memory retained: {retained}");
        foreach (var config in options.Configs)
        {
            var rate = Run(config, options);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{config} samples_per_s={rate:F1}"));
        }
        Console.Error.WriteLine("blas: " + string.Join(", ", LoadedBlas()));
        return 0;
    }

    private static double Run(string config, Options o)
    {
        var channelsLast = config.Contains("channels_last", StringComparison.Ordinal);
        var bf16 = config.Contains("bf16", StringComparison.Ordinal);
        if (!channelsLast && !bf16 && config != "fp32")
            throw new ArgumentException($"unknown configuration '{config}': expected fp32, channels_last, bf16 or bf16_channels_last");

        torch.manual_seed(0);
        using var student = new Student(channelsLast);
        using var x = channelsLast ? Contiguous(torch.randn(o.Batch, 3, 32, 32), MemoryFormat.ChannelsLast) : torch.randn(o.Batch, 3, 32, 32);
        using var y = torch.randint(0, 10, [o.Batch]);
        using var sgd = new MomentumSgd(student.Parameters, lr: 0.01, momentum: 0.9);

        double Step()
        {
            using var scope = torch.NewDisposeScope();
            sgd.ZeroGrad();
            Tensor loss;
            using (torch.autocast(enabled: bf16))
                loss = F.cross_entropy(student.Forward(x), y);
            loss.backward();
            sgd.Step();
            return 0;
        }

        for (var i = 0; i < o.Warmup; i++)
            Step();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < o.Steps; i++)
            Step();
        sw.Stop();

        using (var scope = torch.NewDisposeScope())
        {
            var loss = F.cross_entropy(student.Forward(x), y).AsDouble();
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"{config}: loss is not finite");
        }
        return o.Batch * o.Steps / sw.Elapsed.TotalSeconds;
    }

    private static Tensor Contiguous(Tensor t, MemoryFormat format)
    {
        using (t)
            return t.contiguous(format);
    }

    /// <summary>The BLAS shared objects mapped into this process (what libblas.so.3 resolved to).</summary>
    private static IEnumerable<string> LoadedBlas() =>
        File.ReadLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].Contains("blas", StringComparison.OrdinalIgnoreCase))
            .Select(f => f[5])
            .Distinct();

    private sealed record Options(int Threads, int Batch, int Warmup, int Steps, string[] Configs)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(2, 64, 5, 20, ["fp32", "channels_last", "bf16", "bf16_channels_last"]);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var v = args[i + 1];
                o = args[i] switch
                {
                    "--threads" => o with { Threads = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--warmup" => o with { Warmup = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--steps" => o with { Steps = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--configs" => o with { Configs = v.Split(',', StringSplitOptions.RemoveEmptyEntries) },
                    _ => throw new ArgumentException($"unknown option {args[i]}; options: --threads --batch --warmup --steps --configs"),
                };
            }
            return o;
        }
    }
}

/// <summary>
/// The student as raw tensors over the functional API: 5x5 convs 3→75→50→50→25 (padding 2), each
/// with BatchNorm and ReLU, max-pool after conv 1 and conv 3, then FC 1600→500 and 500→10.
/// Initialised as PyTorch's defaults (uniform ±1/√fan_in).
/// </summary>
internal sealed class Student : IDisposable
{
    private readonly Tensor[] convW = new Tensor[4], convB = new Tensor[4], bnW = new Tensor[4], bnB = new Tensor[4];
    private readonly Tensor[] runMean = new Tensor[4], runVar = new Tensor[4];
    private readonly Tensor fc1W, fc1B, fc2W, fc2B;

    public Student(bool channelsLast)
    {
        int[] channels = [3, 75, 50, 50, 25];
        using var noGrad = torch.no_grad();
        for (var i = 0; i < 4; i++)
        {
            var fanIn = channels[i] * 25;
            var w = Uniform([channels[i + 1], channels[i], 5, 5], fanIn);
            // channels_last weights, as model.to(memory_format=torch.channels_last) makes them.
            convW[i] = channelsLast ? Reformat(w) : w;
            convB[i] = Uniform([channels[i + 1]], fanIn);
            bnW[i] = torch.ones(channels[i + 1]);
            bnB[i] = torch.zeros(channels[i + 1]);
            runMean[i] = torch.zeros(channels[i + 1]);
            runVar[i] = torch.ones(channels[i + 1]);
        }
        fc1W = Uniform([500, 1600], 1600);
        fc1B = Uniform([500], 1600);
        fc2W = Uniform([10, 500], 500);
        fc2B = Uniform([10], 500);
        Parameters = [.. convW, .. convB, .. bnW, .. bnB, fc1W, fc1B, fc2W, fc2B];
        foreach (var p in Parameters)
            p.requires_grad = true;
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    public Tensor Forward(Tensor x)
    {
        x = Block(x, 0);
        x = F.max_pool2d(x, 2);
        x = Block(x, 1);
        x = Block(x, 2);
        x = F.max_pool2d(x, 2);
        x = Block(x, 3);
        x = F.relu(F.linear(x.flatten(1), fc1W, fc1B));
        return F.linear(x, fc2W, fc2B);
    }

    private Tensor Block(Tensor x, int i) =>
        F.relu(F.batch_norm(F.conv2d(x, convW[i], convB[i], padding: 2), runMean[i], runVar[i], bnW[i], bnB[i], training: true));

    private static Tensor Uniform(long[] shape, long fanIn)
    {
        var bound = 1 / Math.Sqrt(fanIn);
        return torch.empty(shape).uniform_(-bound, bound);
    }

    private static Tensor Reformat(Tensor t)
    {
        using (t)
            return t.contiguous(MemoryFormat.ChannelsLast);
    }

    public void Dispose()
    {
        foreach (var t in Parameters.Concat(runMean).Concat(runVar))
            t.Dispose();
    }
}

/// <summary>SGD with momentum as torch.optim.SGD (dampening 0, no Nesterov): b ← μb + g; p ← p − lr·b.</summary>
internal sealed class MomentumSgd : IDisposable
{
    private readonly IReadOnlyList<Tensor> parameters;
    private readonly Tensor[] buffers;
    private readonly double lr, momentum;

    public MomentumSgd(IReadOnlyList<Tensor> parameters, double lr, double momentum)
    {
        this.parameters = parameters;
        this.lr = lr;
        this.momentum = momentum;
        using var noGrad = torch.no_grad();
        // Zero buffers make the first step b = g, as PyTorch's lazily created buffer does; clone
        // keeps each parameter's memory format so the updates need no layout conversion.
        buffers = parameters.Select(p => p.clone().zero_()).ToArray();
    }

    public void ZeroGrad()
    {
        foreach (var p in parameters)
            p.zero_grad();
    }

    public void Step()
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < parameters.Count; i++)
        {
            using var g = parameters[i].grad;
            if (g is null)
                continue;
            buffers[i].mul_(momentum).add_(g);
            parameters[i].add_(buffers[i], -lr);
        }
    }

    public void Dispose()
    {
        foreach (var b in buffers)
            b.Dispose();
    }
}
