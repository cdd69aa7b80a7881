using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

// Element-wise arithmetic, comparison and reductions (all with libtorch broadcasting).
public sealed partial class Tensor
{
    private static Tensor W(IntPtr h) => FromHandle(h);
    private static int Flag(bool b) => b ? 1 : 0;

    // ---- unary ------------------------------------------------------------------------------
    public Tensor neg() => W(LibTorch.THSTensor_neg(Handle));
    public Tensor abs() => W(LibTorch.THSTensor_abs(Handle));
    public Tensor sign() => W(LibTorch.THSTensor_sign(Handle));
    public Tensor exp() => W(LibTorch.THSTensor_exp(Handle));
    public Tensor log() => W(LibTorch.THSTensor_log(Handle));
    public Tensor sqrt() => W(LibTorch.THSTensor_sqrt(Handle));
    public Tensor rsqrt() => W(LibTorch.THSTensor_rsqrt(Handle));
    /// <summary>Rounds half to even, like torch.round.</summary>
    public Tensor round() => W(LibTorch.THSTensor_round(Handle));
    public Tensor floor() => W(LibTorch.THSTensor_floor(Handle));
    public Tensor ceil() => W(LibTorch.THSTensor_ceil(Handle));
    public Tensor sigmoid() => W(LibTorch.THSTensor_sigmoid(Handle));
    public Tensor tanh() => W(LibTorch.THSTensor_tanh(Handle));
    public Tensor isnan() => W(LibTorch.THSTensor_isnan(Handle));
    public Tensor isfinite() => W(LibTorch.THSTensor_isfinite(Handle));
    public Tensor logical_not() => W(LibTorch.THSTensor_logical_not(Handle));

    // ---- binary -----------------------------------------------------------------------------
    public Tensor add(Tensor other, double alpha = 1) => W(LibTorch.THSTensor_add(Handle, other.Handle, alpha));
    public Tensor sub(Tensor other, double alpha = 1) => W(LibTorch.THSTensor_sub(Handle, other.Handle, alpha));
    public Tensor mul(Tensor other) => W(LibTorch.THSTensor_mul(Handle, other.Handle));
    public Tensor div(Tensor other) => W(LibTorch.THSTensor_div(Handle, other.Handle));
    public Tensor pow(Tensor exponent) => W(LibTorch.THSTensor_pow(Handle, exponent.Handle));
    public Tensor matmul(Tensor other) => W(LibTorch.THSTensor_matmul(Handle, other.Handle));
    public Tensor maximum(Tensor other) => W(LibTorch.THSTensor_maximum(Handle, other.Handle));
    public Tensor minimum(Tensor other) => W(LibTorch.THSTensor_minimum(Handle, other.Handle));
    public Tensor logical_and(Tensor other) => W(LibTorch.THSTensor_logical_and(Handle, other.Handle));
    public Tensor logical_or(Tensor other) => W(LibTorch.THSTensor_logical_or(Handle, other.Handle));

    public Tensor add(double v) => W(LibTorch.THSTensor_add_scalar(Handle, v, 0));
    public Tensor add(long v) => W(LibTorch.THSTensor_add_scalar(Handle, v, 1));
    public Tensor sub(double v) => W(LibTorch.THSTensor_sub_scalar(Handle, v, 0));
    public Tensor sub(long v) => W(LibTorch.THSTensor_sub_scalar(Handle, v, 1));
    public Tensor mul(double v) => W(LibTorch.THSTensor_mul_scalar(Handle, v, 0));
    public Tensor mul(long v) => W(LibTorch.THSTensor_mul_scalar(Handle, v, 1));
    public Tensor div(double v) => W(LibTorch.THSTensor_div_scalar(Handle, v, 0));
    public Tensor pow(double exponent) => W(LibTorch.THSTensor_pow_scalar(Handle, exponent, 0));
    /// <summary><paramref name="v"/> − this.</summary>
    public Tensor rsub(double v) => W(LibTorch.THSTensor_rsub_scalar(Handle, v, 0));

    // ---- comparison -------------------------------------------------------------------------
    public Tensor eq(Tensor other) => W(LibTorch.THSTensor_eq(Handle, other.Handle));
    public Tensor ne(Tensor other) => W(LibTorch.THSTensor_ne(Handle, other.Handle));
    public Tensor lt(Tensor other) => W(LibTorch.THSTensor_lt(Handle, other.Handle));
    public Tensor le(Tensor other) => W(LibTorch.THSTensor_le(Handle, other.Handle));
    public Tensor gt(Tensor other) => W(LibTorch.THSTensor_gt(Handle, other.Handle));
    public Tensor ge(Tensor other) => W(LibTorch.THSTensor_ge(Handle, other.Handle));
    public Tensor eq(double v) => W(LibTorch.THSTensor_eq_scalar(Handle, v, 0));
    public Tensor ne(double v) => W(LibTorch.THSTensor_ne_scalar(Handle, v, 0));
    public Tensor lt(double v) => W(LibTorch.THSTensor_lt_scalar(Handle, v, 0));
    public Tensor le(double v) => W(LibTorch.THSTensor_le_scalar(Handle, v, 0));
    public Tensor gt(double v) => W(LibTorch.THSTensor_gt_scalar(Handle, v, 0));
    public Tensor ge(double v) => W(LibTorch.THSTensor_ge_scalar(Handle, v, 0));

    public Tensor clamp(double? min = null, double? max = null) =>
        W(LibTorch.THSTensor_clamp(Handle, min ?? 0, Flag(min.HasValue), max ?? 0, Flag(max.HasValue)));
    public Tensor clamp(Tensor? min, Tensor? max) =>
        W(LibTorch.THSTensor_clamp_tensor(Handle, min?.Handle ?? IntPtr.Zero, max?.Handle ?? IntPtr.Zero));
    public Tensor clamp_min(double min) => clamp(min, null);
    public Tensor clamp_max(double max) => clamp(null, max);

    // ---- operators --------------------------------------------------------------------------
    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    public static Tensor operator +(Tensor a, double b) => a.add(b);
    public static Tensor operator +(double a, Tensor b) => b.add(a);
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    public static Tensor operator -(Tensor a, double b) => a.sub(b);
    public static Tensor operator -(double a, Tensor b) => b.rsub(a);
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    public static Tensor operator *(Tensor a, double b) => a.mul(b);
    public static Tensor operator *(double a, Tensor b) => b.mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    public static Tensor operator /(Tensor a, double b) => a.div(b);
    public static Tensor operator -(Tensor a) => a.neg();

    // ---- in place (for optimizers and initializers; run them under torch.no_grad()) ----------
    public Tensor add_(Tensor other, double alpha = 1) { NativeError.CheckStatus(LibTorch.THSTensor_add_(Handle, other.Handle, alpha)); return this; }
    public Tensor add_(double v) { NativeError.CheckStatus(LibTorch.THSTensor_add_scalar_(Handle, v)); return this; }
    public Tensor mul_(Tensor other) { NativeError.CheckStatus(LibTorch.THSTensor_mul_(Handle, other.Handle)); return this; }
    public Tensor mul_(double v) { NativeError.CheckStatus(LibTorch.THSTensor_mul_scalar_(Handle, v)); return this; }
    public Tensor div_(Tensor other) { NativeError.CheckStatus(LibTorch.THSTensor_div_(Handle, other.Handle)); return this; }
    public Tensor addcmul_(Tensor a, Tensor b, double value = 1) { NativeError.CheckStatus(LibTorch.THSTensor_addcmul_(Handle, a.Handle, b.Handle, value)); return this; }
    public Tensor addcdiv_(Tensor a, Tensor b, double value = 1) { NativeError.CheckStatus(LibTorch.THSTensor_addcdiv_(Handle, a.Handle, b.Handle, value)); return this; }
    public Tensor copy_(Tensor src) { NativeError.CheckStatus(LibTorch.THSTensor_copy_(Handle, src.Handle)); return this; }
    public Tensor zero_() { NativeError.CheckStatus(LibTorch.THSTensor_zero_(Handle)); return this; }
    public Tensor fill_(double v) { NativeError.CheckStatus(LibTorch.THSTensor_fill_(Handle, v)); return this; }
    public Tensor clamp_(double min, double max) { NativeError.CheckStatus(LibTorch.THSTensor_clamp_(Handle, min, max)); return this; }
    public Tensor uniform_(double from = 0, double to = 1) { NativeError.CheckStatus(LibTorch.THSTensor_uniform_(Handle, from, to)); return this; }
    public Tensor normal_(double mean = 0, double std = 1) { NativeError.CheckStatus(LibTorch.THSTensor_normal_(Handle, mean, std)); return this; }
    public Tensor lerp_(Tensor end, double weight) { NativeError.CheckStatus(LibTorch.THSTensor_lerp_(Handle, end.Handle, weight)); return this; }
    public Tensor sqrt_() { NativeError.CheckStatus(LibTorch.THSTensor_sqrt_(Handle)); return this; }

    // ---- reductions -------------------------------------------------------------------------
    public Tensor sum() => W(LibTorch.THSTensor_sum(Handle));
    public Tensor mean() => W(LibTorch.THSTensor_mean(Handle));
    public Tensor max() => W(LibTorch.THSTensor_max(Handle));
    public Tensor min() => W(LibTorch.THSTensor_min(Handle));
    public Tensor norm(double p = 2) => W(LibTorch.THSTensor_norm(Handle, p));
    public unsafe Tensor sum(long[] dims, bool keepdim = false) { fixed (long* d = dims) return W(LibTorch.THSTensor_sum_dim(Handle, d, dims.Length, Flag(keepdim))); }
    public Tensor sum(long dim, bool keepdim = false) => sum([dim], keepdim);
    public unsafe Tensor mean(long[] dims, bool keepdim = false) { fixed (long* d = dims) return W(LibTorch.THSTensor_mean_dim(Handle, d, dims.Length, Flag(keepdim))); }
    public Tensor mean(long dim, bool keepdim = false) => mean([dim], keepdim);
    public Tensor argmax(long dim, bool keepdim = false) => W(LibTorch.THSTensor_argmax(Handle, dim, Flag(keepdim)));
    public Tensor argmin(long dim, bool keepdim = false) => W(LibTorch.THSTensor_argmin(Handle, dim, Flag(keepdim)));

    public unsafe (Tensor values, Tensor indexes) max(long dim, bool keepdim = false)
    {
        IntPtr v, i;
        NativeError.CheckStatus(LibTorch.THSTensor_max_dim(Handle, dim, Flag(keepdim), &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    public unsafe (Tensor values, Tensor indexes) min(long dim, bool keepdim = false)
    {
        IntPtr v, i;
        NativeError.CheckStatus(LibTorch.THSTensor_min_dim(Handle, dim, Flag(keepdim), &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    public unsafe (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false)
    {
        IntPtr v, i;
        NativeError.CheckStatus(LibTorch.THSTensor_sort(Handle, dim, Flag(descending), &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    public unsafe (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        IntPtr v, i;
        NativeError.CheckStatus(LibTorch.THSTensor_topk(Handle, k, dim, Flag(largest), Flag(sorted), &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    public Tensor bincount(Tensor? weights = null, long minlength = 0) =>
        W(LibTorch.THSTensor_bincount(Handle, weights?.Handle ?? IntPtr.Zero, minlength));
    public Tensor histc(long bins = 100, double min = 0, double max = 0) => W(LibTorch.THSTensor_histc(Handle, bins, min, max));
    public Tensor quantile(Tensor q) => W(LibTorch.THSTensor_quantile(Handle, q.Handle));
    public Tensor cumsum(long dim) => W(LibTorch.THSTensor_cumsum(Handle, dim));
}
