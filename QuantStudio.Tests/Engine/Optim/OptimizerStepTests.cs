using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

/// <summary>
/// Each optimizer's update against a hand computation (first steps spelled out) and against a
/// scalar re-implementation of PyTorch's documented algorithm over several steps.
/// </summary>
public class OptimizerStepTests
{
    private static readonly double[] Start = [1.0, -2.0, 0.25];
    private static readonly double[][] Gradients = [[0.5, 1.0, -0.2], [-0.3, 1.0, 0.4], [0.1, -2.0, 0.0]];

    /// <summary>Runs <paramref name="steps"/> updates with the given gradients, returning the parameter after each.</summary>
    private static List<double[]> Run(Func<Tensor, Optimizer> build, double[] start, double[][] gradients)
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(start, requires_grad: true);
        using var optimizer = build(p);
        var trace = new List<double[]>();
        foreach (var g in gradients)
        {
            p.grad = torch.tensor(g);
            optimizer.step();
            trace.Add(p.data<double>().ToArray());
        }
        return trace;
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    // ---- SGD ----------------------------------------------------------------------------------

    [Fact]
    public void Sgd_with_momentum_and_weight_decay_matches_a_hand_computation()
    {
        // lr 0.5, momentum 0.9, weight_decay 0.1, p = [1, -2], g = [0.5, 1] twice.
        // Step 1: d = g + 0.1p = [0.6, 0.8]; the buffer starts as d; p = p − 0.5·d = [0.7, −2.4].
        // Step 2: d = g + 0.1p = [0.57, 0.76]; b = 0.9·[0.6, 0.8] + d = [1.11, 1.48]; p = [0.145, −3.14].
        var trace = Run(p => Optimizers.SGD([p], lr: 0.5, momentum: 0.9, weight_decay: 0.1), [1, -2], [[0.5, 1], [0.5, 1]]);
        AssertClose([0.7, -2.4], trace[0]);
        AssertClose([0.145, -3.14], trace[1]);
    }

    [Fact]
    public void Sgd_nesterov_matches_a_hand_computation()
    {
        // Step 1: d = [0.6, 0.8], b = d, Nesterov d + 0.9·b = [1.14, 1.52]; p = [1 − 0.57, −2 − 0.76].
        var trace = Run(p => Optimizers.SGD([p], lr: 0.5, momentum: 0.9, weight_decay: 0.1, nesterov: true), [1, -2], [[0.5, 1]]);
        AssertClose([0.43, -2.76], trace[0]);
    }

    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]
    [InlineData(0.9, 0.0, 0.0, false)]
    [InlineData(0.9, 0.3, 0.01, false)]
    [InlineData(0.8, 0.0, 0.05, true)]
    public void Sgd_matches_the_reference_algorithm_over_three_steps(double momentum, double dampening, double weightDecay, bool nesterov)
    {
        const double lr = 0.1;
        var trace = Run(p => Optimizers.SGD([p], lr, momentum, dampening, weightDecay, nesterov), Start, Gradients);

        var p = (double[])Start.Clone();
        double[]? buffer = null;
        for (var step = 0; step < Gradients.Length; step++)
        {
            var first = buffer is null;
            buffer ??= new double[p.Length];
            for (var i = 0; i < p.Length; i++)
            {
                var d = Gradients[step][i] + weightDecay * p[i];
                if (momentum != 0)
                {
                    buffer[i] = first ? d : momentum * buffer[i] + (1 - dampening) * d;
                    d = nesterov ? d + momentum * buffer[i] : buffer[i];
                }
                p[i] -= lr * d;
            }
            AssertClose(p, trace[step]);
        }
    }

    [Fact]
    public void Sgd_maximize_ascends()
    {
        var trace = Run(p => Optimizers.SGD([p], lr: 0.5, maximize: true), [1, -2], [[0.5, 1]]);
        AssertClose([1.25, -1.5], trace[0]);
    }

    // ---- Adam / AdamW -------------------------------------------------------------------------

    [Fact]
    public void Adam_first_step_is_bias_corrected_to_lr_times_the_gradient_sign()
    {
        // m = 0.1g and v = 0.001g² after one step; corrected, m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps).
        // Without the correction it would be lr·0.1g/(√0.001·|g|) ≈ 3.16·lr.
        var trace = Run(p => Optimizers.Adam([p], lr: 0.1), [1, -2], [[0.5, -4]]);
        AssertClose([1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 4 / (4 + 1e-8)], trace[0]);
        AssertClose([0.9, -1.9], trace[0], 1e-8);
    }

    [Fact]
    public void Adam_weight_decay_is_added_to_the_gradient_but_adamw_decays_the_weight()
    {
        // Zero gradient, lr 0.1, weight_decay 0.5, p = [1, −2].
        // Adam: g = 0.5p, a first step of lr·sign(g) → p ≈ [0.9, −1.9].
        // AdamW: p·(1 − 0.1·0.5) = 0.95p, and a zero Adam step (m = 0).
        var adam = Run(p => Optimizers.Adam([p], lr: 0.1, weight_decay: 0.5), [1, -2], [[0, 0]]);
        AssertClose([0.9, -1.9], adam[0], 1e-7);
        var adamw = Run(p => Optimizers.AdamW([p], lr: 0.1, weight_decay: 0.5), [1, -2], [[0, 0]]);
        AssertClose([0.95, -1.9], adamw[0]);
    }

    [Theory]
    [InlineData(false, 0.0, false)]
    [InlineData(false, 0.05, false)]
    [InlineData(false, 0.0, true)]
    [InlineData(true, 0.2, false)]
    [InlineData(true, 0.2, true)]
    public void Adam_and_adamw_match_the_reference_algorithm_over_three_steps(bool decoupled, double weightDecay, bool amsgrad)
    {
        const double lr = 0.05, beta1 = 0.8, beta2 = 0.9, eps = 1e-6;
        var trace = Run(p => decoupled
            ? Optimizers.AdamW([p], lr, beta1, beta2, eps, weightDecay, amsgrad)
            : Optimizers.Adam([p], lr, beta1, beta2, eps, weightDecay, amsgrad), Start, Gradients);

        var p = (double[])Start.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        var vMax = new double[p.Length];
        for (var t = 1; t <= Gradients.Length; t++)
        {
            for (var i = 0; i < p.Length; i++)
            {
                var g = Gradients[t - 1][i];
                if (decoupled)
                    p[i] *= 1 - lr * weightDecay;
                else
                    g += weightDecay * p[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                vMax[i] = Math.Max(vMax[i], v[i]);
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var second = amsgrad ? vMax[i] : v[i];
                p[i] -= lr * mHat / (Math.Sqrt(second) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps);
            }
            AssertClose(p, trace[t - 1]);
        }
    }

    // ---- groups, gradients, validation --------------------------------------------------------

    [Fact]
    public void Param_groups_use_their_own_options_and_parameters_without_gradients_are_skipped()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2], ScalarType.Float64, requires_grad: true);
        var b = torch.ones([2], ScalarType.Float64, requires_grad: true);
        var frozen = torch.ones([2], ScalarType.Float64, requires_grad: true);
        using var optimizer = Optimizers.SGD(
            [new ParamGroupSpec([a]), new ParamGroupSpec([b, frozen], lr: 0.01, options: new Dictionary<string, double> { ["momentum"] = 0.5 })],
            lr: 0.1);
        Assert.Equal(0.0, optimizer.param_groups[0]["momentum"]);
        Assert.Equal(0.5, optimizer.param_groups[1]["momentum"]);

        a.grad = torch.ones([2], ScalarType.Float64);
        b.grad = torch.ones([2], ScalarType.Float64);
        optimizer.step();
        Assert.Equal([0.9, 0.9], a.data<double>().ToArray());
        Assert.Equal([0.99, 0.99], b.data<double>().ToArray());
        Assert.Equal([1.0, 1.0], frozen.data<double>().ToArray());
        Assert.Null(optimizer.state(frozen));
        Assert.NotNull(optimizer.state(b)!.named_tensors["momentum_buffer"]);

        optimizer.param_groups[0].lr = 1;
        optimizer.step();
        AssertClose([-0.1, -0.1], a.data<double>().ToArray());

        optimizer.zero_grad();
        Assert.Null(a.grad);
        Assert.Null(b.grad);
    }

    [Fact]
    public void Step_frees_its_temporaries_and_keeps_only_the_state()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.ones([3], requires_grad: true);
        using var optimizer = Optimizers.Adam([p], amsgrad: true);
        p.grad = torch.ones(3);
        var before = scope.DisposablesCount;
        optimizer.step();
        optimizer.step();
        // Nothing the steps created was left in the caller's scope; the state tensors belong to the optimizer.
        Assert.Equal(before, scope.DisposablesCount);
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], optimizer.state(p)!.named_tensors.Keys);
        Assert.Equal(2, optimizer.state(p)!.step);

        var expAvg = optimizer.state(p)!.named_tensors["exp_avg"];
        optimizer.Dispose();
        Assert.True(expAvg.IsInvalid);
        Assert.False(p.IsInvalid);
    }

    [Fact]
    public void Invalid_options_are_rejected_with_the_option_named()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.ones([2], requires_grad: true);
        Assert.Contains("lr", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizers.SGD([p], lr: -1)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => Optimizers.SGD([p], lr: 0.1, nesterov: true)).Message);
        Assert.Contains("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizers.Adam([p], beta2: 1)).Message);
        Assert.Contains("momentum", Assert.Throws<ArgumentException>(() =>
            Optimizers.Adam([new ParamGroupSpec([p], options: new Dictionary<string, double> { ["momentum"] = 0.9 })])).Message);
        Assert.Contains("more than one", Assert.Throws<ArgumentException>(() =>
            Optimizers.SGD([new ParamGroupSpec([p]), new ParamGroupSpec([p])], lr: 0.1)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Optimizers.SGD(Array.Empty<Tensor>(), lr: 0.1)).Message);
        using var nonLeaf = p.mul(2.0);
        Assert.Contains("non-leaf", Assert.Throws<ArgumentException>(() => Optimizers.SGD([nonLeaf], lr: 0.1)).Message);
        using var sgd = Optimizers.SGD([p], lr: 0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.param_groups[0].lr = -0.5);
    }

    [Fact]
    public void Step_with_a_closure_returns_its_loss()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 3 }, requires_grad: true);
        using var optimizer = Optimizers.SGD([p], lr: 0.25);
        var loss = optimizer.step(() =>
        {
            optimizer.zero_grad();
            var l = p.mul(p).sum();
            l.backward();
            return l;
        });
        Assert.Equal(9.0, loss!.AsDouble());
        // d(p²)/dp = 6 at p = 3: p = 3 − 0.25·6.
        Assert.Equal(1.5, p.AsDouble());
    }
}
