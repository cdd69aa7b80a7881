using QuantStudio.Core.Quantization;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Quantization;

public class LearnedStepQuantizerTests
{
    [Fact]
    public void Ranges_follow_the_paper()
    {
        var w = LearnedStepQuantizer.ForWeights(4);
        Assert.Equal((8, 7), (w.Qn, w.Qp));
        var a = LearnedStepQuantizer.ForActivations(4);
        Assert.Equal((0, 15), (a.Qn, a.Qp));
        Assert.Equal((2, 1), (LearnedStepQuantizer.ForWeights(2).Qn, LearnedStepQuantizer.ForWeights(2).Qp));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearnedStepQuantizer.ForWeights(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearnedStepQuantizer.ForActivations(9));
    }

    [Fact]
    public void Grad_scale_and_initial_step_match_their_formulas()
    {
        var w = LearnedStepQuantizer.ForWeights(4);
        Assert.Equal(1 / Math.Sqrt(100 * 7), w.GradScale(100), 15);
        // mean |v| = (1 + 3 + 2 + 2) / 4 = 2 → 2·2/sqrt(7).
        using var v = torch.tensor(new[] { 1f, -3f, 2f, -2f });
        using var s = w.InitialStep(v);
        Assert.Equal([1L], s.shape);
        Assert.Equal(4 / Math.Sqrt(7), s.AsDouble(), 6);
    }

    // LSQ's gradient is the exact gradient of the straight-through surrogate
    // F(v, s) = Σ w·(c + clip(v/s, −Qn, Qp))·s with c = round(x₀) − x₀ frozen at the evaluation
    // point; central differences of F (float64) are an independent check of the fused backward.
    [Theory]
    [InlineData(true, 3)]
    [InlineData(true, 8)]
    [InlineData(false, 2)]
    [InlineData(false, 5)]
    public void Gradients_agree_with_finite_differences_of_the_straight_through_surrogate(bool weights, int bits)
    {
        using var scope = torch.NewDisposeScope();
        var lsq = weights ? LearnedStepQuantizer.ForWeights(bits) : LearnedStepQuantizer.ForActivations(bits);
        var rng = new Random(bits * 10 + (weights ? 1 : 0));
        const double step0 = 0.21;
        // Values spread over and beyond the range, kept away from the clip bounds so ±h never crosses them.
        var values = Enumerable.Range(0, 200).Select(_ =>
        {
            double x;
            do
                x = (rng.NextDouble() * 1.4 - 0.2) * (lsq.Qn + lsq.Qp) - lsq.Qn;
            while (Math.Abs(x + lsq.Qn) < 1e-3 || Math.Abs(x - lsq.Qp) < 1e-3);
            return x * step0;
        }).ToArray();
        var upstream = Enumerable.Range(0, values.Length).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        const double g = 0.37;

        var v = torch.tensor(values).requires_grad_();
        var s = torch.full([1], step0, ScalarType.Float64, requires_grad: true);
        (lsq.Forward(v, s, g) * torch.tensor(upstream)).sum().backward();
        var gradV = v.grad!.data<double>().ToArray();
        var gradS = s.grad!.AsDouble();

        var frozen = values.Select(x => Math.Round(Math.Clamp(x / step0, -lsq.Qn, lsq.Qp), MidpointRounding.ToEven) - Math.Clamp(x / step0, -lsq.Qn, lsq.Qp)).ToArray();
        double Surrogate(double[] vs, double st)
        {
            double sum = 0;
            for (var i = 0; i < vs.Length; i++)
                sum += upstream[i] * (frozen[i] + Math.Clamp(vs[i] / st, -lsq.Qn, lsq.Qp)) * st;
            return sum;
        }

        const double h = 1e-6;
        var fdStep = (Surrogate(values, step0 + h) - Surrogate(values, step0 - h)) / (2 * h);
        Assert.Equal(g * fdStep, gradS, 1e-6 * Math.Max(1, Math.Abs(fdStep)));
        for (var i = 0; i < values.Length; i++)
        {
            var plus = (double[])values.Clone();
            var minus = (double[])values.Clone();
            plus[i] += h * step0;
            minus[i] -= h * step0;
            var fd = (Surrogate(plus, step0) - Surrogate(minus, step0)) / (2 * h * step0);
            Assert.True(Math.Abs(fd - gradV[i]) < 1e-6, $"element {i} (v/s = {values[i] / step0}): fd {fd}, kernel {gradV[i]}");
        }
    }

    // The same quantizer composed from separate tensor ops with the straight-through idiom
    // (as the LSQ paper's code does) yields the same gradients as the fused op.
    [Fact]
    public void Gradients_agree_with_the_op_by_op_straight_through_composition()
    {
        using var scope = torch.NewDisposeScope();
        var lsq = LearnedStepQuantizer.ForWeights(4);
        torch.manual_seed(21);
        var data = torch.randn([500], ScalarType.Float64) * 1.5;
        var upstream = torch.randn([500], ScalarType.Float64);
        var g = lsq.GradScale(500);

        var v1 = data.clone().requires_grad_();
        var s1 = torch.full([1], 0.3, ScalarType.Float64, requires_grad: true);
        (lsq.Forward(v1, s1) * upstream).sum().backward();

        var v2 = data.clone().requires_grad_();
        var s2 = torch.full([1], 0.3, ScalarType.Float64, requires_grad: true);
        var scaled = s2 * g + (s2 - s2 * g).detach();             // value s, gradient g
        var x = (v2 / scaled).clamp(-lsq.Qn, lsq.Qp);
        var rounded = x + (x.round() - x).detach();              // round with a straight-through gradient
        ((rounded * scaled) * upstream).sum().backward();

        Assert.Equal(s2.grad!.AsDouble(), s1.grad!.AsDouble(), 1e-10);
        var a = v1.grad!.data<double>().ToArray();
        var b = v2.grad!.data<double>().ToArray();
        for (var i = 0; i < a.Length; i++)
            Assert.Equal(b[i], a[i], 1e-12);
    }
}
