using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// The 2-d convolution every model of the zoo computes with: libtorch's float32 kernels (oneDNN), guarded against
/// what they get wrong on the CPUs these machines have (docs/engine.md, "Convolutions are checked"):
/// <list type="bullet">
/// <item>it always computes in channels_last (NCHW float32 backwards returned wrong input gradients at random);</item>
/// <item>a strided 1×1 convolution (a residual shortcut) subsamples its input and runs with stride 1 (oneDNN's AVX-512
/// backward of it overran a heap buffer and killed the process, which no check can catch afterwards);</item>
/// <item>every distinct convolution — input shape, weight shape, stride, padding, dilation, groups, bias, thread count —
/// is checked once per process against libtorch's float64 kernels on random data of its shape: output, input gradient
/// and weight gradient. Some shapes come out wrong every time (a 1×1 convolution to 75 channels over a 4×24×7×7
/// input with 2 threads, off by up to 2.6 where the outputs span ±4.3); those compute in float64 from then on, exact and slower.</item>
/// </list>
/// </summary>
public sealed class CheckedConvolution
{
    /// <summary>Relative error (largest difference ÷ largest reference magnitude) above which a kernel disagrees.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>The process's convolutions, over libtorch's kernels.</summary>
    public static CheckedConvolution Shared { get; } = new(Native);

    private readonly ConcurrentDictionary<Shape, bool> verdicts = new();
    private readonly ConcurrentQueue<string> disagreements = new();

    /// <summary>Over another float32 kernel (tests stand in a faulty one); float64 always runs libtorch's.</summary>
    internal CheckedConvolution(Func<Tensor, Tensor, Tensor?, long[], long[], long[], long, Tensor> kernel) => Kernel = kernel;

    private Func<Tensor, Tensor, Tensor?, long[], long[], long[], long, Tensor> Kernel { get; }

    /// <summary>The convolutions checked so far that disagreed with float64, described (oldest first).</summary>
    public IReadOnlyList<string> Disagreements => disagreements.ToArray();

    /// <summary>How many distinct convolutions have been checked.</summary>
    public int Checked => verdicts.Count;

    /// <summary>conv2d over an [N, C, H, W] input; the output is channels_last.</summary>
    public Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        using var scope = NewDisposeScope();
        var x = input;
        if (weight.size(2) == 1 && weight.size(3) == 1 && padding.All(p => p == 0) && stride.Any(s => s > 1))
        {
            x = x.slice(2, 0, x.size(2), stride[0]).slice(3, 0, x.size(3), stride[1]);
            stride = [1, 1];
        }
        x = x.ToChannelsLast();
        if (x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)
            return scope.MoveToOuter(Kernel(x, weight, bias, stride, padding, dilation, groups));
        var shape = new Shape(string.Join('x', x.shape), string.Join('x', weight.shape), string.Join('x', stride), string.Join('x', padding),
            string.Join('x', dilation), groups, bias is not null, torch.get_num_threads());
        var reliable = verdicts.GetOrAdd(shape, s => Check(s, x.shape, weight.shape, bias is not null, stride, padding, dilation, groups));
        if (reliable)
            return scope.MoveToOuter(Kernel(x, weight, bias, stride, padding, dilation, groups));
        var y = Native(x.to_type(ScalarType.Float64), weight.to_type(ScalarType.Float64), bias?.to_type(ScalarType.Float64),
            stride, padding, dilation, groups);
        return scope.MoveToOuter(y.to_type(ScalarType.Float32));
    }

    private static Tensor Native(Tensor x, Tensor w, Tensor? b, long[] stride, long[] padding, long[] dilation, long groups) =>
        nn.functional.conv2d(x, w, b, stride, padding, dilation, groups);

    /// <summary>
    /// Runs the float32 kernel and the float64 one on the same random channels_last input, weight, bias and output
    /// gradient (from a generator of its own: the run's random stream is untouched) and compares output, input
    /// gradient and weight gradient.
    /// </summary>
    private bool Check(Shape shape, long[] inputShape, long[] weightShape, bool hasBias, long[] stride, long[] padding,
        long[] dilation, long groups)
    {
        using var scope = NewDisposeScope();
        using var grad = torch.enable_grad();
        using var generator = new Generator(20260101);
        var x = torch.randn(inputShape, generator: generator).ToChannelsLast();
        var w = torch.randn(weightShape, generator: generator);
        var b = hasBias ? torch.randn([weightShape[0]], generator: generator) : null;
        Tensor? g = null;
        var (y32, dx32, dw32) = Run(Kernel, x, w, b, ScalarType.Float32, shape => g = torch.randn(shape, generator: generator), stride, padding, dilation, groups);
        var (y64, dx64, dw64) = Run(Native, x, w, b, ScalarType.Float64, _ => g!, stride, padding, dilation, groups);
        var worst = new[] { RelativeError(y32, y64), RelativeError(dx32, dx64), RelativeError(dw32, dw64) };
        var reliable = worst.All(e => e <= Tolerance);
        if (!reliable)
            disagreements.Enqueue(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{shape}: relative error output {worst[0]:G3}, input gradient {worst[1]:G3}, weight gradient {worst[2]:G3}"));
        return reliable;
    }

    private static (Tensor y, Tensor dx, Tensor dw) Run(Func<Tensor, Tensor, Tensor?, long[], long[], long[], long, Tensor> kernel,
        Tensor x, Tensor w, Tensor? b, ScalarType type, Func<long[], Tensor> outputGrad, long[] stride, long[] padding, long[] dilation, long groups)
    {
        var xi = x.to_type(type).detach().requires_grad_();
        var wi = w.to_type(type).detach().requires_grad_();
        var bi = b?.to_type(type);
        var y = kernel(xi, wi, bi, stride, padding, dilation, groups);
        y.backward([outputGrad(y.shape).to_type(type)]);
        return (y.detach(), xi.grad!, wi.grad!);
    }

    private static double RelativeError(Tensor actual, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var scale = reference.abs().max().item<double>();
        var error = actual.to_type(ScalarType.Float64).sub(reference).abs().max().item<double>();
        return double.IsFinite(error) ? error / Math.Max(scale, 1e-30) : double.PositiveInfinity;
    }

    private readonly record struct Shape(string Input, string Weight, string Stride, string Padding, string Dilation, long Groups,
        bool Bias, int Threads)
    {
        public override string ToString() =>
            $"conv2d input {Input}, weight {Weight}, stride {Stride}, padding {Padding}, dilation {Dilation}, groups {Groups}"
            + (Bias ? ", bias" : "") + $", {Threads} thread(s)";
    }
}
