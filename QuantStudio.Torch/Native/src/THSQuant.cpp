// Fused quantization kernels: bucketed uniform / absmax quantization (one pass per bucket, no
// temporaries), its inverse, and the learnable-step quantizer (LSQ) as an autograd function
// whose forward and backward are one pass each.
//
// The managed reference (QuantStudio.Core/Quantization/Reference) computes the same float
// expressions in the same order, so codes and dequantized values agree bit for bit.
// libtorch API headers first: common.h's global `Tensor` handle typedef would clash inside them.
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "common.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace {

constexpr int kSchemeUniform = 0;
constexpr int kSchemeAbsmax = 1;
// Work per task: enough elements that scheduling costs nothing next to the arithmetic.
constexpr int64_t kGrainElements = 1 << 15;

// Round half to even without a libm call: adding and removing 1.5 * 2^(mantissa bits) leaves the
// nearest integer (ties to even, the default FP rounding mode) for |x| < 2^22 (float) / 2^51 (double).
inline float round_half_even(float x)
{
    // Without -ffast-math the compiler may not fold (x + m) - m: IEEE rounding is the point here.
    constexpr float magic = 12582912.0f; // 1.5 * 2^23
    return (x + magic) - magic;
}

inline double round_half_even(double x)
{
    constexpr double magic = 6755399441055744.0; // 1.5 * 2^52
    return (x + magic) - magic;
}

// Per-element uniform draw in [0, 1) for stochastic rounding: SplitMix64 of (seed, index), so the
// result depends neither on the thread count nor on the bucket layout, and a managed reference
// reproduces it exactly.
inline float uniform01(uint64_t seed, int64_t index)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(index) + 1ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

struct BucketSpec {
    int64_t numel;
    int64_t bucket; // elements per bucket (the whole tensor when the caller asked for none)
    int64_t buckets;
    int bits;
    int scheme;
    bool stochastic;
    uint64_t seed;

    // Number of steps between levels: s - 1, with s = 2^bits (uniform) or 2^(bits-1) on |v| (absmax).
    float steps() const { return static_cast<float>(scheme == kSchemeUniform ? (1 << bits) - 1 : (1 << (bits - 1)) - 1); }
};

BucketSpec make_spec(int64_t numel, int64_t bucket_size, int bits, int scheme)
{
    if (bits < 1 || bits > 8)
        throw std::invalid_argument("bits must be in 1..8, got " + std::to_string(bits));
    if (scheme != kSchemeUniform && scheme != kSchemeAbsmax)
        throw std::invalid_argument("scheme must be 0 (uniform) or 1 (absmax), got " + std::to_string(scheme));
    if (scheme == kSchemeAbsmax && bits < 2)
        throw std::invalid_argument("absmax keeps a sign bit, so bits must be in 2..8, got " + std::to_string(bits));
    if (bucket_size < 0)
        throw std::invalid_argument("bucket size must be >= 1 (or 0 for the whole tensor), got " + std::to_string(bucket_size));
    BucketSpec s{};
    s.numel = numel;
    s.bucket = bucket_size == 0 ? std::max<int64_t>(numel, 1) : bucket_size;
    s.buckets = (numel + s.bucket - 1) / s.bucket;
    s.bits = bits;
    s.scheme = scheme;
    return s;
}

// (alpha, beta) of elements [b, e): min-max for uniform, max |v| for absmax. Padding the last
// bucket with the tensor's last value cannot change either, so partial buckets need no padding.
inline void bucket_range(const float* v, int64_t b, int64_t e, int scheme, float& lo, float& hi)
{
    if (scheme == kSchemeUniform) {
        for (int64_t i = b; i < e; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    } else {
        for (int64_t i = b; i < e; i++) {
            float a = std::fabs(v[i]);
            hi = a > hi ? a : hi;
        }
    }
}

inline void finish_scale(int scheme, float lo, float hi, float& alpha, float& beta)
{
    if (scheme == kSchemeUniform) {
        alpha = hi - lo;
        beta = lo;
    } else {
        alpha = hi;
        beta = 0.0f;
    }
    if (alpha < 1e-10f)
        alpha = 1.0f;
}

// Quantizes elements [b, e) with the bucket's (alpha, beta), writing codes and dequantized values.
// Specialised per (scheme, rounding) so that each inner loop is branch-free and vectorizes.
template <bool Absmax, bool Stochastic>
void quantize_loop(const BucketSpec& s, const float* __restrict v, int64_t b, int64_t e, float alpha, float beta, uint8_t* __restrict codes,
                   float* __restrict out)
{
    const float steps = s.steps();
    const float step = alpha / steps;
    const int sign_code = 1 << (s.bits - 1);
    for (int64_t i = b; i < e; i++) {
        float x = Absmax ? std::fabs(v[i]) / alpha * steps : (v[i] - beta) / alpha * steps;
        x = std::min(steps, std::max(0.0f, x)); // also maps NaN to 0 instead of undefined casts
        float q;
        if (Stochastic) {
            float fl = static_cast<float>(static_cast<int32_t>(x));
            q = uniform01(s.seed, i) < x - fl ? fl + 1.0f : fl;
        } else {
            q = round_half_even(x);
        }
        int32_t code = static_cast<int32_t>(q);
        if (Absmax) {
            bool negative = v[i] < 0.0f;
            codes[i] = static_cast<uint8_t>(negative ? code | sign_code : code);
            out[i] = negative ? -(q * step) : q * step;
        } else {
            codes[i] = static_cast<uint8_t>(code);
            out[i] = q * step + beta;
        }
    }
}

inline void quantize_range(const BucketSpec& s, const float* v, int64_t b, int64_t e, float alpha, float beta, uint8_t* codes, float* out)
{
    if (s.scheme == kSchemeUniform)
        s.stochastic ? quantize_loop<false, true>(s, v, b, e, alpha, beta, codes, out) : quantize_loop<false, false>(s, v, b, e, alpha, beta, codes, out);
    else
        s.stochastic ? quantize_loop<true, true>(s, v, b, e, alpha, beta, codes, out) : quantize_loop<true, false>(s, v, b, e, alpha, beta, codes, out);
}

void bucketed_quantize(const BucketSpec& s, const float* v, float* out, uint8_t* codes, float* alpha, float* beta)
{
    if (s.numel == 0)
        return;
    const int64_t threads = at::get_num_threads();
    if (s.buckets >= 2 * threads) {
        // Many buckets: each task owns whole buckets and reads each from cache the second time.
        const int64_t grain = std::max<int64_t>(1, kGrainElements / s.bucket);
        at::parallel_for(0, s.buckets, grain, [&](int64_t first, int64_t last) {
            for (int64_t k = first; k < last; k++) {
                int64_t b = k * s.bucket, e = std::min(b + s.bucket, s.numel);
                float lo = v[b], hi = s.scheme == kSchemeUniform ? v[b] : 0.0f;
                bucket_range(v, b, e, s.scheme, lo, hi);
                finish_scale(s.scheme, lo, hi, alpha[k], beta[k]);
                quantize_range(s, v, b, e, alpha[k], beta[k], codes, out);
            }
        });
        return;
    }
    // Few large buckets: a parallel reduction per bucket, then a parallel element-wise pass.
    for (int64_t k = 0; k < s.buckets; k++) {
        int64_t b = k * s.bucket, e = std::min(b + s.bucket, s.numel);
        using Range = std::pair<float, float>;
        Range init{v[b], s.scheme == kSchemeUniform ? v[b] : 0.0f};
        Range r = at::parallel_reduce(
            b, e, kGrainElements, init,
            [&](int64_t rb, int64_t re, Range acc) {
                bucket_range(v, rb, re, s.scheme, acc.first, acc.second);
                return acc;
            },
            [](Range x, Range y) { return Range{std::min(x.first, y.first), std::max(x.second, y.second)}; });
        finish_scale(s.scheme, r.first, r.second, alpha[k], beta[k]);
    }
    at::parallel_for(0, s.numel, kGrainElements, [&](int64_t first, int64_t last) {
        while (first < last) {
            int64_t k = first / s.bucket;
            int64_t e = std::min(last, (k + 1) * s.bucket);
            quantize_range(s, v, first, e, alpha[k], beta[k], codes, out);
            first = e;
        }
    });
}

void bucketed_dequantize(const BucketSpec& s, const uint8_t* codes, const float* alpha, const float* beta, float* out)
{
    const float steps = s.steps();
    const int sign_shift = s.bits - 1;
    const int magnitude_mask = (1 << sign_shift) - 1;
    at::parallel_for(0, s.numel, kGrainElements, [&](int64_t first, int64_t last) {
        while (first < last) {
            int64_t k = first / s.bucket;
            int64_t e = std::min(last, (k + 1) * s.bucket);
            const float step = alpha[k] / steps;
            if (s.scheme == kSchemeUniform) {
                for (int64_t i = first; i < e; i++)
                    out[i] = static_cast<float>(codes[i]) * step + beta[k];
            } else {
                for (int64_t i = first; i < e; i++) {
                    float q = static_cast<float>(codes[i] & magnitude_mask);
                    out[i] = (codes[i] >> sign_shift) != 0 ? -(q * step) : q * step;
                }
            }
            first = e;
        }
    });
}

// ---- LSQ -----------------------------------------------------------------------------------

void check_lsq(const at::Tensor& v, const at::Tensor& s, double qn, double qp)
{
    if (!v.is_floating_point() || (v.scalar_type() != at::kFloat && v.scalar_type() != at::kDouble))
        throw std::invalid_argument("LSQ input must be float32 or float64");
    if (s.numel() != 1)
        throw std::invalid_argument("LSQ step must hold exactly one element, got " + std::to_string(s.numel()));
    if (qn < 0 || qp <= 0)
        throw std::invalid_argument("LSQ range needs Qn >= 0 and Qp > 0");
}

at::Tensor lsq_forward(const at::Tensor& input, double step, double qn, double qp)
{
    at::Tensor v = input.contiguous();
    at::Tensor out = at::empty_like(v, at::MemoryFormat::Contiguous);
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "lsq_forward", [&] {
        const scalar_t* pv = v.data_ptr<scalar_t>();
        scalar_t* po = out.data_ptr<scalar_t>();
        const scalar_t s = static_cast<scalar_t>(step), lo = static_cast<scalar_t>(-qn), hi = static_cast<scalar_t>(qp);
        at::parallel_for(0, v.numel(), kGrainElements, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; i++) {
                scalar_t x = pv[i] / s;
                x = std::min(hi, std::max(lo, x));
                po[i] = round_half_even(x) * s;
            }
        });
    });
    return out;
}

// Gradients of v_hat = round(clip(v/s, -Qn, Qp)) * s (LSQ, Esser et al. 2020): straight-through
// for v strictly inside the range; for s, -v/s + round(v/s) inside, -Qn at or below, Qp at or above,
// summed against the upstream gradient and scaled by g.
std::pair<at::Tensor, double> lsq_backward(const at::Tensor& input, double step, const at::Tensor& grad_output, double qn, double qp, double g)
{
    at::Tensor v = input.contiguous();
    at::Tensor go = grad_output.to(v.scalar_type()).expand(v.sizes()).contiguous();
    at::Tensor grad_v = at::empty_like(v, at::MemoryFormat::Contiguous);
    double grad_s = 0.0;
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "lsq_backward", [&] {
        const scalar_t* pv = v.data_ptr<scalar_t>();
        const scalar_t* pg = go.data_ptr<scalar_t>();
        scalar_t* pgv = grad_v.data_ptr<scalar_t>();
        const scalar_t s = static_cast<scalar_t>(step), lo = static_cast<scalar_t>(-qn), hi = static_cast<scalar_t>(qp);
        grad_s = at::parallel_reduce(
            0, v.numel(), kGrainElements, 0.0,
            [&](int64_t b, int64_t e, double acc) {
                for (int64_t i = b; i < e; i++) {
                    scalar_t x = pv[i] / s;
                    if (x <= lo) {
                        pgv[i] = 0;
                        acc += static_cast<double>(pg[i]) * static_cast<double>(lo);
                    } else if (x >= hi) {
                        pgv[i] = 0;
                        acc += static_cast<double>(pg[i]) * static_cast<double>(hi);
                    } else {
                        pgv[i] = pg[i];
                        acc += static_cast<double>(pg[i]) * static_cast<double>(round_half_even(x) - x);
                    }
                }
                return acc;
            },
            std::plus<double>());
    });
    return {grad_v, grad_s * g};
}

struct LsqFunction : public torch::autograd::Function<LsqFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& v, const at::Tensor& s, double qn, double qp, double g)
    {
        ctx->save_for_backward({v, s});
        ctx->saved_data["qn"] = qn;
        ctx->saved_data["qp"] = qp;
        ctx->saved_data["g"] = g;
        return lsq_forward(v, s.item<double>(), qn, qp);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grad_outputs)
    {
        auto saved = ctx->get_saved_variables();
        const at::Tensor& v = saved[0];
        const at::Tensor& s = saved[1];
        auto r = lsq_backward(v, s.item<double>(), grad_outputs[0], ctx->saved_data["qn"].toDouble(), ctx->saved_data["qp"].toDouble(),
                              ctx->saved_data["g"].toDouble());
        at::Tensor grad_s = at::full(s.sizes(), r.second, s.options());
        return {r.first, grad_s, at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

} // namespace

// ---- exports -------------------------------------------------------------------------------

// Quantizes a float32 tensor bucket by bucket. bucket_size 0 means one bucket for the whole
// tensor; scheme 0 = uniform (min-max), 1 = absmax (sign bit + 2^(bits-1) levels on |v|).
// Outputs: dequantized (float32, input's shape), codes (uint8, input's shape), alpha and beta
// (float32, one per bucket; beta is 0 for absmax).
QS_EXPORT int THSQuant_bucketed_quantize(Tensor input, int64_t bucket_size, int bits, int scheme, int stochastic, uint64_t seed,
                                         Tensor* dequantized, Tensor* codes, Tensor* alpha, Tensor* beta)
{
    QS_CATCH_STATUS(
        if (input->scalar_type() != at::kFloat)
            throw std::invalid_argument(std::string("bucketed quantization takes float32 input, got ") + c10::toString(input->scalar_type()));
        if (input->device().type() != at::kCPU)
            throw std::invalid_argument("the fused bucketed quantizer runs on CPU tensors");
        at::Tensor v = input->detach().contiguous();
        BucketSpec s = make_spec(v.numel(), bucket_size, bits, scheme);
        s.stochastic = stochastic != 0;
        s.seed = seed;
        at::Tensor out = at::empty(v.sizes(), v.options());
        at::Tensor c = at::empty(v.sizes(), v.options().dtype(at::kByte));
        at::Tensor a = at::empty({s.buckets}, v.options());
        at::Tensor bt = at::empty({s.buckets}, v.options());
        bucketed_quantize(s, v.data_ptr<float>(), out.data_ptr<float>(), c.data_ptr<uint8_t>(), a.data_ptr<float>(), bt.data_ptr<float>());
        *dequantized = qs::wrap(std::move(out));
        *codes = qs::wrap(std::move(c));
        *alpha = qs::wrap(std::move(a));
        *beta = qs::wrap(std::move(bt));)
}

// The inverse: float32 values of the codes' shape from codes and per-bucket (alpha, beta).
// beta may be null for absmax.
QS_EXPORT Tensor THSQuant_bucketed_dequantize(Tensor codes, Tensor alpha, Tensor beta, int64_t bucket_size, int bits, int scheme)
{
    QS_CATCH_TENSOR(([&] {
        if (codes->scalar_type() != at::kByte)
            throw std::invalid_argument("codes must be uint8");
        at::Tensor c = codes->contiguous();
        BucketSpec s = make_spec(c.numel(), bucket_size, bits, scheme);
        at::Tensor a = alpha->to(at::kFloat).contiguous();
        at::Tensor b = beta != nullptr ? beta->to(at::kFloat).contiguous() : at::zeros({s.buckets}, a.options());
        if (a.numel() != s.buckets || (scheme == kSchemeUniform && b.numel() != s.buckets))
            throw std::invalid_argument("expected " + std::to_string(s.buckets) + " alpha and beta values for " + std::to_string(s.numel) +
                                        " codes in buckets of " + std::to_string(s.bucket) + ", got " + std::to_string(a.numel()) + " and " +
                                        std::to_string(b.numel()));
        at::Tensor out = at::empty(c.sizes(), c.options().dtype(at::kFloat));
        if (s.numel > 0)
            bucketed_dequantize(s, c.data_ptr<uint8_t>(), a.data_ptr<float>(), b.data_ptr<float>(), out.data_ptr<float>());
        return out;
    }()))
}

// v_hat = round(clip(v/s, -qn, qp)) * s, differentiable in v (straight-through) and s (LSQ, scaled by g).
QS_EXPORT Tensor THSQuant_lsq(Tensor v, Tensor s, double qn, double qp, double g)
{
    QS_CATCH_TENSOR(([&] {
        check_lsq(*v, *s, qn, qp);
        return LsqFunction::apply(*v, *s, qn, qp, g);
    }()))
}

// The fused backward on its own (for tests and benchmarks): gradients of sum(grad_output * v_hat).
QS_EXPORT int THSQuant_lsq_backward(Tensor v, Tensor s, Tensor grad_output, double qn, double qp, double g, Tensor* grad_v, Tensor* grad_s)
{
    QS_CATCH_STATUS(
        check_lsq(*v, *s, qn, qp);
        auto r = lsq_backward(v->detach(), s->item<double>(), grad_output->detach(), qn, qp, g);
        *grad_v = qs::wrap(std::move(r.first));
        *grad_s = qs::wrap(at::full(s->sizes(), r.second, s->options().requires_grad(false)));)
}
