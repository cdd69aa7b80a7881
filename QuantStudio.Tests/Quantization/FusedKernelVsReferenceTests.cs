using QuantStudio.Core.Quantization;
using QuantStudio.Core.Quantization.Reference;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Quantization;

// The fused native kernels against the plain managed reference, on random tensors of many shapes.
public class FusedKernelVsReferenceTests
{
    public static TheoryData<long[], int?> Shapes => new()
    {
        { [1], 256 },
        { [7], 3 },
        { [255], 256 },
        { [256], 256 },
        { [257], 256 },
        { [3, 5, 7], 1 },
        { [3, 5, 7], 64 },
        { [1000, 33], 256 },
        { [1000, 33], null },
        { [150_000], 100_000 },
        { [200_000], null },
        { [64, 3, 3, 3], 27 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bucketed_quantizer_matches_the_reference_exactly(long[] shape, int? bucket)
    {
        torch.set_num_threads(2);
        torch.manual_seed(shape.Aggregate(17L, (a, b) => a * 31 + b));
        using var w = torch.randn(shape) * 3.0;
        var values = w.data<float>().ToArray();
        for (var bits = 1; bits <= 8; bits++)
        {
            foreach (var scheme in new[] { QuantizationScheme.Uniform, QuantizationScheme.AbsMax })
            {
                if (scheme == QuantizationScheme.AbsMax && bits == 1)
                    continue;
                foreach (var rounding in new[] { Core.Quantization.RoundingMode.Deterministic, Core.Quantization.RoundingMode.Stochastic })
                {
                    var settings = new QuantizerSettings(bits, bucket, scheme, rounding, seed: (ulong)bits * 7919);
                    using var q = new BucketedQuantizer(settings).Quantize(w);
                    var r = ReferenceBucketedQuantizer.Quantize(values, settings);
                    var label = $"bits {bits} {scheme} {rounding}";
                    Assert.True(r.Codes.AsSpan().SequenceEqual(q.Codes.data<byte>().ToArray()), label + ": codes");
                    Assert.True(r.Alpha.AsSpan().SequenceEqual(q.Alpha.data<float>().ToArray()), label + ": alpha");
                    Assert.True(r.Beta.AsSpan().SequenceEqual(q.Beta.data<float>().ToArray()), label + ": beta");
                    Assert.True(r.Dequantized.AsSpan().SequenceEqual(q.Dequantized.data<float>().ToArray()), label + ": dequantized");
                    Assert.Equal(shape, q.Codes.shape);
                    var back = ReferenceBucketedQuantizer.Dequantize(r.Codes, r.Alpha, r.Beta, settings);
                    Assert.True(back.AsSpan().SequenceEqual(r.Dequantized), label + ": reference dequantize");
                }
            }
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        torch.manual_seed(3);
        using var w = torch.randn(300_000);
        var settings = new QuantizerSettings(3, null, rounding: Core.Quantization.RoundingMode.Stochastic, seed: 9);
        torch.set_num_threads(1);
        using var one = new BucketedQuantizer(settings).Quantize(w);
        torch.set_num_threads(2);
        using var two = new BucketedQuantizer(settings).Quantize(w);
        Assert.Equal(one.Codes.data<byte>().ToArray(), two.Codes.data<byte>().ToArray());
        Assert.Equal(one.Alpha.data<float>().ToArray(), two.Alpha.data<float>().ToArray());
    }

    [Theory]
    [InlineData(new long[] { 1 }, 2, false)]
    [InlineData(new long[] { 33, 7 }, 4, true)]
    [InlineData(new long[] { 100_000 }, 8, true)]
    [InlineData(new long[] { 5, 4, 3, 3 }, 3, false)]
    public void Lsq_forward_and_backward_match_the_reference(long[] shape, int bits, bool weights)
    {
        torch.manual_seed(bits);
        var lsq = weights ? LearnedStepQuantizer.ForWeights(bits) : LearnedStepQuantizer.ForActivations(bits);
        using var scope = torch.NewDisposeScope();
        var v = (torch.randn(shape, ScalarType.Float64) * 2.0).requires_grad_();
        var step = torch.full([1], 0.37, ScalarType.Float64, requires_grad: true);
        var upstream = torch.randn(shape, ScalarType.Float64);
        var g = lsq.GradScale(v.numel());

        var vHat = lsq.Forward(v, step);
        (vHat * upstream).sum().backward();

        var values = v.detach().data<double>().ToArray();
        var expected = ReferenceLsq.Forward(values, 0.37, lsq.Qn, lsq.Qp);
        Assert.Equal(expected, vHat.detach().data<double>().ToArray());
        var (gradInput, gradStep) = ReferenceLsq.Backward(values, 0.37, upstream.data<double>().ToArray(), lsq.Qn, lsq.Qp, g);
        Assert.Equal(gradInput, v.grad!.data<double>().ToArray());
        Assert.Equal(gradStep, step.grad!.AsDouble(), 1e-9 * Math.Max(1, Math.Abs(gradStep)));

        // The standalone fused backward agrees with the one autograd ran.
        var (gv, gs) = LsqKernels.LsqBackward(v, step, upstream, lsq.Qn, lsq.Qp, g);
        Assert.Equal(gradInput, gv.data<double>().ToArray());
        Assert.Equal(gradStep, gs.AsDouble(), 1e-9 * Math.Max(1, Math.Abs(gradStep)));
    }

    [Fact]
    public void Lsq_runs_in_float32_too()
    {
        using var scope = torch.NewDisposeScope();
        var lsq = LearnedStepQuantizer.ForWeights(4);
        var v = torch.tensor(new[] { -2f, -0.26f, 0f, 0.24f, 0.5f, 3f }).requires_grad_();
        var step = torch.tensor(new[] { 0.25f }).requires_grad_();
        var vHat = lsq.Forward(v, step);
        // v/s = -8, -1.04, 0, 0.96, 2, 12 → clip to [-8, 7] → round → -8, -1, 0, 1, 2, 7.
        Assert.Equal(new[] { -2f, -0.25f, 0f, 0.25f, 0.5f, 1.75f }, vHat.data<float>().ToArray());
        vHat.sum().backward();
        Assert.Equal(new[] { 0f, 1f, 1f, 1f, 1f, 0f }, v.grad!.data<float>().ToArray());
    }
}
