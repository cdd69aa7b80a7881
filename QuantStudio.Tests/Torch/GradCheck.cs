using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

/// <summary>
/// Numerical gradient check in float64, after torch.autograd.gradcheck: the gradient autograd
/// computes for L(x) = Σ f(x) ⊙ R (R a fixed random projection, so every output element and the
/// whole Jacobian take part) is compared with central finite differences of L.
/// </summary>
internal static class GradCheck
{
    /// <summary>
    /// Checks the gradient of <paramref name="f"/> with respect to every tensor in
    /// <paramref name="inputs"/> (float64; the tensors themselves are only read). Non-differentiable
    /// arguments (indices, masks, running statistics) belong in the closure.
    /// </summary>
    public static void Verify(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        const double eps = 1e-6, atol = 1e-7, rtol = 1e-5;
        using var scope = torch.NewDisposeScope();
        var shapes = inputs.Select(t => t.shape).ToArray();
        var values = inputs.Select(t =>
        {
            if (t.dtype != ScalarType.Float64)
                throw new ArgumentException($"gradient checks run in float64, got {t.dtype}", nameof(inputs));
            return t.data<double>();
        }).ToArray();

        // Analytic: one backward pass through the projected sum.
        var leaves = values.Select((v, k) => torch.tensor(v, shapes[k], requires_grad: true)).ToArray();
        var y = f(leaves);
        if (y.dtype != ScalarType.Float64)
            throw new InvalidOperationException($"the checked function returned {y.dtype}; it must stay in float64");
        var projection = Projection(y.shape);
        y.mul(projection).sum().backward();
        var analytic = leaves.Select((leaf, k) => leaf.grad?.data<double>() ?? new double[values[k].Length]).ToArray();

        // Numeric: perturb one element at a time.
        var failures = new List<string>();
        for (var k = 0; k < values.Length; k++)
        {
            for (var j = 0; j < values[k].Length; j++)
            {
                var saved = values[k][j];
                values[k][j] = saved + eps;
                var plus = Evaluate(f, values, shapes, projection);
                values[k][j] = saved - eps;
                var minus = Evaluate(f, values, shapes, projection);
                values[k][j] = saved;
                var numeric = (plus - minus) / (2 * eps);
                var a = analytic[k][j];
                if (!(Math.Abs(a - numeric) <= atol + rtol * Math.Abs(numeric)))
                    failures.Add($"input {k} element {j}: autograd {a:G10}, finite difference {numeric:G10}");
            }
        }
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} gradient mismatches:\n" + string.Join("\n", failures.Take(20)));
    }

    /// <summary>
    /// A float64 tensor with values of magnitude in [0.1, 1.1] and random sign, drawn from .NET's
    /// seeded generator (not libtorch's, which other tests share): away from 0, where abs, sign and
    /// relu have kinks, and with distinct values, so max, sort and pooling have no ties.
    /// </summary>
    public static Tensor Input(int seed, params long[] shape)
    {
        var rng = new Random(seed);
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new double[n];
        for (var i = 0; i < n; i++)
            v[i] = (0.1 + rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1);
        return torch.tensor(v, shape);
    }

    /// <summary>Like <see cref="Input"/> but strictly positive (for log, sqrt, pow bases).</summary>
    public static Tensor PositiveInput(int seed, params long[] shape)
    {
        using var t = Input(seed, shape);
        return t.abs();
    }

    private static Tensor Projection(long[] shape)
    {
        var rng = new Random(20240611);
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var r = new double[n];
        for (var i = 0; i < n; i++)
            r[i] = rng.NextDouble() * 2 - 1;
        return torch.tensor(r, shape);
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, double[][] values, long[][] shapes, Tensor projection)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var xs = values.Select((v, k) => torch.tensor(v, shapes[k])).ToArray();
        return f(xs).mul(projection).sum().item<double>();
    }
}
