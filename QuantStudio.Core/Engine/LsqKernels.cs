using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// The learnable-step quantizer v̂ = round(clip(v/s, −Qn, Qp))·s (LSQ, Esser et al. 2020) as a
/// fused autograd op: the forward is one vectorized pass over v; the backward is one pass that
/// writes the gradient for v (straight-through inside the range) and reduces the gradient for s
/// (−v/s + round(v/s) inside, −Qn at or below, Qp at or above, times the upstream gradient and g).
/// </summary>
public static class LsqKernels
{
    /// <summary>v̂ as an autograd op with gradients for v and the one-element step s (scaled by <paramref name="gradScale"/>).</summary>
    public static Tensor Lsq(Tensor v, Tensor step, double qn, double qp, double gradScale)
    {
        Check(v, step, qn, qp);
        return LsqFunction.apply(v, step, qn, qp, gradScale);
    }

    /// <summary>The fused backward alone: gradients of sum(gradOutput · v̂) with respect to v and s.</summary>
    public static (Tensor GradInput, Tensor GradStep) LsqBackward(Tensor v, Tensor step, Tensor gradOutput, double qn, double qp, double gradScale)
    {
        Check(v, step, qn, qp);
        using var scope = NewDisposeScope();
        var (gv, gs) = Backward(v, step.AsDouble(), gradOutput, qn, qp);
        using var value = (gs * gradScale).ToScalar();
        var gradStep = full(step.shape, value, step.dtype);
        return (scope.MoveToOuter(gv), scope.MoveToOuter(gradStep));
    }

    private static void Check(Tensor v, Tensor step, double qn, double qp)
    {
        if (v.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"LSQ input must be float32 or float64, got {v.dtype}", nameof(v));
        if (v.device_type != DeviceType.CPU)
            throw new ArgumentException($"LSQ input must be on the CPU, got {v.device}", nameof(v));
        if (step.numel() != 1)
            throw new ArgumentException($"LSQ step must hold exactly one element, got {step.numel()}", nameof(step));
        if (qn < 0 || qp <= 0)
            throw new ArgumentException($"LSQ range needs Qn >= 0 and Qp > 0, got Qn = {qn}, Qp = {qp}");
    }

    internal static Tensor Forward(Tensor input, double step, double qn, double qp) =>
        input.dtype == ScalarType.Float64 ? ForwardDouble(input, step, -qn, qp) : Forward(input, (float)step, (float)-qn, (float)qp);

    // Float64 (gradient checks): the same expressions in double, one plain pass.
    private static unsafe Tensor ForwardDouble(Tensor input, double s, double lo, double hi)
    {
        using var scope = NewDisposeScope();
        var v = input.contiguous();
        var result = empty(v.shape, ScalarType.Float64);
        var pv = TensorMemory.Pointer<double>(v);
        var po = TensorMemory.Pointer<double>(result);
        for (long i = 0, n = v.numel(); i < n; i++)
        {
            var x = pv[i] / s;
            x = x > lo ? x : lo;
            x = x < hi ? x : hi;
            po[i] = Math.Round(x, MidpointRounding.ToEven) * s;
        }
        return scope.MoveToOuter(result);
    }

    private static unsafe Tensor Forward(Tensor input, float s, float lo, float hi)
    {
        using var scope = NewDisposeScope();
        var v = input.contiguous();
        var result = empty(v.shape, ScalarType.Float32);
        var pv = TensorMemory.Pointer<float>(v);
        var po = TensorMemory.Pointer<float>(result);
        var numel = v.numel();
        var pieces = (numel + QuantKernels.GrainElements - 1) / QuantKernels.GrainElements;
        Parallel.For(0, pieces, QuantKernels.Parallelism, c =>
        {
            long i = c * QuantKernels.GrainElements, e = Math.Min(numel, i + QuantKernels.GrainElements);
            if (Vector.IsHardwareAccelerated)
            {
                var vs = new Vector<float>(s);
                var vlo = new Vector<float>(lo);
                var vhi = new Vector<float>(hi);
                var magic = new Vector<float>(QuantKernels.RoundMagic);
                for (; i + Vector<float>.Count <= e; i += Vector<float>.Count)
                {
                    var x = Vector.Load(pv + i) / vs;
                    x = Vector.ConditionalSelect(Vector.GreaterThan(x, vlo), x, vlo);
                    x = Vector.ConditionalSelect(Vector.LessThan(x, vhi), x, vhi);
                    ((x + magic - magic) * vs).Store(po + i);
                }
            }
            for (; i < e; i++)
            {
                var x = pv[i] / s;
                x = x > lo ? x : lo;
                x = x < hi ? x : hi;
                po[i] = QuantKernels.RoundHalfEven(x) * s;
            }
        });
        return scope.MoveToOuter(result);
    }

    /// <summary>Gradient for v and the unscaled sum for s.</summary>
    internal static unsafe (Tensor GradInput, double GradStep) Backward(Tensor input, double step, Tensor gradOutput, double qn, double qp)
    {
        if (input.dtype == ScalarType.Float64)
            return BackwardDouble(input, step, gradOutput, qn, qp);
        using var scope = NewDisposeScope();
        var v = input.contiguous();
        var go = gradOutput.to_type(ScalarType.Float32).expand(v.shape).contiguous();
        var gradV = empty(v.shape, ScalarType.Float32);
        var pv = TensorMemory.Pointer<float>(v);
        var pg = TensorMemory.Pointer<float>(go);
        var pgv = TensorMemory.Pointer<float>(gradV);
        float s = (float)step, lo = (float)-qn, hi = (float)qp;
        var numel = v.numel();
        var pieces = (numel + QuantKernels.GrainElements - 1) / QuantKernels.GrainElements;
        var partial = new double[pieces];
        Parallel.For(0, pieces, QuantKernels.Parallelism, c =>
        {
            long b = c * QuantKernels.GrainElements, e = Math.Min(numel, b + QuantKernels.GrainElements);
            var acc = 0.0;
            for (var i = b; i < e; i++)
            {
                var x = pv[i] / s;
                if (x <= lo)
                {
                    pgv[i] = 0;
                    acc += (double)pg[i] * lo;
                }
                else if (x >= hi)
                {
                    pgv[i] = 0;
                    acc += (double)pg[i] * hi;
                }
                else
                {
                    pgv[i] = pg[i];
                    acc += (double)pg[i] * (QuantKernels.RoundHalfEven(x) - x);
                }
            }
            partial[c] = acc;
        });
        return (scope.MoveToOuter(gradV), partial.Sum());
    }

    private static unsafe (Tensor GradInput, double GradStep) BackwardDouble(Tensor input, double s, Tensor gradOutput, double qn, double qp)
    {
        using var scope = NewDisposeScope();
        var v = input.contiguous();
        var go = gradOutput.to_type(ScalarType.Float64).expand(v.shape).contiguous();
        var gradV = empty(v.shape, ScalarType.Float64);
        var pv = TensorMemory.Pointer<double>(v);
        var pg = TensorMemory.Pointer<double>(go);
        var pgv = TensorMemory.Pointer<double>(gradV);
        double acc = 0, lo = -qn, hi = qp;
        for (long i = 0, n = v.numel(); i < n; i++)
        {
            var x = pv[i] / s;
            if (x <= lo || x >= hi)
            {
                pgv[i] = 0;
                acc += pg[i] * (x <= lo ? lo : hi);
            }
            else
            {
                pgv[i] = pg[i];
                acc += pg[i] * (Math.Round(x, MidpointRounding.ToEven) - x);
            }
        }
        return (scope.MoveToOuter(gradV), acc);
    }

    private sealed class LsqFunction : torch.autograd.SingleTensorFunction<LsqFunction>
    {
        public override string Name => "QuantStudioLsq";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var v = (Tensor)vars[0];
            var s = (Tensor)vars[1];
            double qn = (double)vars[2], qp = (double)vars[3], g = (double)vars[4];
            ctx.save_for_backward([v, s]);
            ctx.save_data("qn", qn);
            ctx.save_data("qp", qp);
            ctx.save_data("g", g);
            return Forward(v.detach(), s.detach().AsDouble(), qn, qp);
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var saved = ctx.get_saved_variables();
            var v = saved[0];
            var s = saved[1];
            var (gv, gs) = Backward(v, s.AsDouble(), grad_output,
                (double)ctx.get_data("qn"), (double)ctx.get_data("qp"));
            using var value = (gs * (double)ctx.get_data("g")).ToScalar();
            var gradStep = full(s.shape, value, s.dtype);
            return [gv, gradStep, null!, null!, null!];
        }
    }
}
