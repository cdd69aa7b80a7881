// Tensor lifetime, metadata, creation, element-wise ops, reductions and shape ops.
#include "common.h"

#include <cstring>

using qs::dims;
using qs::scalar;

// libtorch refuses a floating alpha/value for integral tensors (int64 counters, say); pass whole numbers as integers there.
static at::Scalar scalar_for(const at::Tensor& t, double v)
{
    if (!at::isFloatingType(t.scalar_type()) && !at::isComplexType(t.scalar_type()) && v == static_cast<double>(static_cast<int64_t>(v)))
        return at::Scalar(static_cast<int64_t>(v));
    return at::Scalar(v);
}

// ---- lifetime & metadata -------------------------------------------------------------------

QS_EXPORT void THSTensor_dispose(Tensor t)
{
    if (t == nullptr)
        return;
    delete t;
    qs::live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

QS_EXPORT int64_t THSTensor_ndim(Tensor t) { QS_CATCH(return t->dim();) return -1; }
QS_EXPORT int64_t THSTensor_numel(Tensor t) { QS_CATCH(return t->numel();) return -1; }
QS_EXPORT int8_t THSTensor_dtype(Tensor t) { QS_CATCH(return static_cast<int8_t>(t->scalar_type());) return -1; }
QS_EXPORT int THSTensor_device_type(Tensor t) { QS_CATCH(return static_cast<int>(t->device().type());) return -1; }
QS_EXPORT int THSTensor_device_index(Tensor t) { QS_CATCH(return t->device().index();) return -1; }
QS_EXPORT int THSTensor_defined(Tensor t) { return t != nullptr && t->defined() ? 1 : 0; }

QS_EXPORT int THSTensor_sizes(Tensor t, int64_t* out)
{
    QS_CATCH_STATUS(auto s = t->sizes(); std::memcpy(out, s.data(), s.size() * sizeof(int64_t));)
}

QS_EXPORT int THSTensor_strides(Tensor t, int64_t* out)
{
    QS_CATCH_STATUS(auto s = t->strides(); std::memcpy(out, s.data(), s.size() * sizeof(int64_t));)
}

QS_EXPORT int THSTensor_requires_grad(Tensor t) { QS_CATCH(return t->requires_grad() ? 1 : 0;) return -1; }
QS_EXPORT int THSTensor_set_requires_grad(Tensor t, int value) { QS_CATCH_STATUS(t->set_requires_grad(value != 0);) }
QS_EXPORT int THSTensor_is_leaf(Tensor t) { QS_CATCH(return t->is_leaf() ? 1 : 0;) return -1; }

// memory_format: 0 = contiguous (NCHW), 1 = channels_last (NHWC), 2 = preserve.
static at::MemoryFormat memory_format(int fmt)
{
    switch (fmt) {
    case 0: return at::MemoryFormat::Contiguous;
    case 1: return at::MemoryFormat::ChannelsLast;
    case 2: return at::MemoryFormat::Preserve;
    default: throw std::invalid_argument("unknown memory format code " + std::to_string(fmt));
    }
}

QS_EXPORT int THSTensor_is_contiguous(Tensor t, int fmt) { QS_CATCH(return t->is_contiguous(memory_format(fmt)) ? 1 : 0;) return -1; }

// Copies the elements (in logical row-major order) into a caller-allocated buffer of `nbytes`.
QS_EXPORT int THSTensor_copy_to_buffer(Tensor t, void* dst, int64_t nbytes)
{
    QS_CATCH_STATUS(
        at::Tensor c = t->detach().to(at::kCPU).contiguous();
        int64_t need = c.numel() * static_cast<int64_t>(c.element_size());
        if (need != nbytes)
            throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes but the tensor needs " + std::to_string(need));
        if (need > 0)
            std::memcpy(dst, c.data_ptr(), static_cast<size_t>(need));)
}

QS_EXPORT double THSTensor_item_double(Tensor t) { QS_CATCH(return t->item<double>();) return 0.0; }
QS_EXPORT int64_t THSTensor_item_int64(Tensor t) { QS_CATCH(return t->item<int64_t>();) return 0; }

QS_EXPORT char* THSTensor_to_string(Tensor t)
{
    QS_CATCH(std::ostringstream os; os << *t; return strdup(os.str().c_str());)
    return nullptr;
}

// ---- creation ----------------------------------------------------------------------------

QS_EXPORT Tensor THSTensor_new(const void* data, const int64_t* shape, int ndim, int8_t dtype, int requires_grad)
{
    QS_CATCH_TENSOR(
        ([&] {
            auto opts = at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype));
            at::Tensor t = at::empty(dims(shape, ndim), opts);
            if (t.numel() > 0)
                std::memcpy(t.data_ptr(), data, static_cast<size_t>(t.numel()) * t.element_size());
            if (requires_grad)
                t.set_requires_grad(true);
            return t;
        }()))
}

#define QS_FACTORY(name, call)                                                                         \
    QS_EXPORT Tensor THSTensor_##name(const int64_t* shape, int ndim, int8_t dtype, int device_type,     \
                                      int device_index, int requires_grad)                              \
    {                                                                                                  \
        QS_CATCH_TENSOR(([&] {                                                                         \
            auto opts = qs::options(dtype, device_type, device_index);                                 \
            at::Tensor t = call;                                                                       \
            if (requires_grad)                                                                         \
                t.set_requires_grad(true);                                                             \
            return t;                                                                                  \
        }()))                                                                                          \
    }

QS_FACTORY(zeros, at::zeros(dims(shape, ndim), opts))
QS_FACTORY(ones, at::ones(dims(shape, ndim), opts))
QS_FACTORY(empty, at::empty(dims(shape, ndim), opts))
QS_FACTORY(rand, at::rand(dims(shape, ndim), opts))
QS_FACTORY(randn, at::randn(dims(shape, ndim), opts))

QS_EXPORT Tensor THSTensor_full(const int64_t* shape, int ndim, double value, int value_is_int, int8_t dtype, int device_type,
                                int device_index, int requires_grad)
{
    QS_CATCH_TENSOR(([&] {
        at::Tensor t = at::full(dims(shape, ndim), scalar(value, value_is_int), qs::options(dtype, device_type, device_index));
        if (requires_grad)
            t.set_requires_grad(true);
        return t;
    }()))
}

QS_EXPORT Tensor THSTensor_randint(int64_t low, int64_t high, const int64_t* shape, int ndim, int8_t dtype, int device_type,
                                   int device_index)
{
    QS_CATCH_TENSOR(at::randint(low, high, dims(shape, ndim), qs::options(dtype, device_type, device_index)))
}

QS_EXPORT Tensor THSTensor_arange(double start, double end, double step, int8_t dtype, int device_type, int device_index)
{
    QS_CATCH_TENSOR(at::arange(at::Scalar(start), at::Scalar(end), at::Scalar(step), qs::options(dtype, device_type, device_index)))
}

QS_EXPORT Tensor THSTensor_linspace(double start, double end, int64_t steps, int8_t dtype)
{
    QS_CATCH_TENSOR(at::linspace(start, end, steps, at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype))))
}

QS_EXPORT Tensor THSTensor_randperm(int64_t n, int8_t dtype) { QS_CATCH_TENSOR(at::randperm(n, at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)))) }
QS_EXPORT Tensor THSTensor_bernoulli(Tensor t) { QS_CATCH_TENSOR(at::bernoulli(*t)) }

// ---- conversion & copies -----------------------------------------------------------------

QS_EXPORT Tensor THSTensor_to_type(Tensor t, int8_t dtype) { QS_CATCH_TENSOR(t->to(static_cast<at::ScalarType>(dtype))) }
QS_EXPORT Tensor THSTensor_to_device(Tensor t, int device_type, int device_index)
{
    QS_CATCH_TENSOR(t->to(at::Device(static_cast<at::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index))))
}
QS_EXPORT Tensor THSTensor_contiguous(Tensor t, int fmt) { QS_CATCH_TENSOR(t->contiguous(memory_format(fmt))) }
QS_EXPORT Tensor THSTensor_clone(Tensor t) { QS_CATCH_TENSOR(t->clone()) }
QS_EXPORT Tensor THSTensor_detach(Tensor t) { QS_CATCH_TENSOR(t->detach()) }
QS_EXPORT Tensor THSTensor_alias(Tensor t) { QS_CATCH_TENSOR(at::Tensor(*t)) }

// ---- element-wise --------------------------------------------------------------------------

#define QS_UNARY(name, expr) \
    QS_EXPORT Tensor THSTensor_##name(Tensor t) { QS_CATCH_TENSOR(expr) }

QS_UNARY(neg, t->neg())
QS_UNARY(abs, t->abs())
QS_UNARY(sign, t->sign())
QS_UNARY(exp, t->exp())
QS_UNARY(log, t->log())
QS_UNARY(sqrt, t->sqrt())
QS_UNARY(rsqrt, t->rsqrt())
QS_UNARY(round, t->round())
QS_UNARY(floor, t->floor())
QS_UNARY(ceil, t->ceil())
QS_UNARY(sigmoid, t->sigmoid())
QS_UNARY(tanh, t->tanh())
QS_UNARY(isnan, t->isnan())
QS_UNARY(isfinite, t->isfinite())
QS_UNARY(logical_not, t->logical_not())

#define QS_BINARY(name, expr) \
    QS_EXPORT Tensor THSTensor_##name(Tensor a, Tensor b) { QS_CATCH_TENSOR(expr) }

QS_BINARY(mul, a->mul(*b))
QS_BINARY(div, a->div(*b))
QS_BINARY(pow, a->pow(*b))
QS_BINARY(eq, a->eq(*b))
QS_BINARY(ne, a->ne(*b))
QS_BINARY(lt, a->lt(*b))
QS_BINARY(le, a->le(*b))
QS_BINARY(gt, a->gt(*b))
QS_BINARY(ge, a->ge(*b))
QS_BINARY(maximum, at::maximum(*a, *b))
QS_BINARY(minimum, at::minimum(*a, *b))
QS_BINARY(matmul, a->matmul(*b))
QS_BINARY(logical_and, a->logical_and(*b))
QS_BINARY(logical_or, a->logical_or(*b))

QS_EXPORT Tensor THSTensor_add(Tensor a, Tensor b, double alpha) { QS_CATCH_TENSOR(a->add(*b, scalar_for(*a, alpha))) }
QS_EXPORT Tensor THSTensor_sub(Tensor a, Tensor b, double alpha) { QS_CATCH_TENSOR(a->sub(*b, scalar_for(*a, alpha))) }

#define QS_SCALAR_OP(name, expr) \
    QS_EXPORT Tensor THSTensor_##name##_scalar(Tensor t, double v, int is_int) { QS_CATCH_TENSOR(expr) }

QS_SCALAR_OP(add, t->add(scalar(v, is_int)))
QS_SCALAR_OP(sub, t->sub(scalar(v, is_int)))
QS_SCALAR_OP(mul, t->mul(scalar(v, is_int)))
QS_SCALAR_OP(div, t->div(scalar(v, is_int)))
QS_SCALAR_OP(pow, t->pow(scalar(v, is_int)))
QS_SCALAR_OP(rsub, at::rsub(*t, scalar(v, is_int)))
QS_SCALAR_OP(eq, t->eq(scalar(v, is_int)))
QS_SCALAR_OP(ne, t->ne(scalar(v, is_int)))
QS_SCALAR_OP(lt, t->lt(scalar(v, is_int)))
QS_SCALAR_OP(le, t->le(scalar(v, is_int)))
QS_SCALAR_OP(gt, t->gt(scalar(v, is_int)))
QS_SCALAR_OP(ge, t->ge(scalar(v, is_int)))

QS_EXPORT Tensor THSTensor_where(Tensor cond, Tensor a, Tensor b) { QS_CATCH_TENSOR(at::where(*cond, *a, *b)) }

// has_min / has_max select which bound applies (torch.clamp takes optionals).
QS_EXPORT Tensor THSTensor_clamp(Tensor t, double min, int has_min, double max, int has_max)
{
    QS_CATCH_TENSOR(at::clamp(*t, has_min ? c10::optional<at::Scalar>(min) : c10::nullopt,
                              has_max ? c10::optional<at::Scalar>(max) : c10::nullopt))
}

QS_EXPORT Tensor THSTensor_clamp_tensor(Tensor t, Tensor min, Tensor max)
{
    QS_CATCH_TENSOR(at::clamp(*t, min ? c10::optional<at::Tensor>(*min) : c10::nullopt,
                              max ? c10::optional<at::Tensor>(*max) : c10::nullopt))
}

// ---- in-place (used by optimizers and initializers, always under no_grad on the managed side) --

QS_EXPORT int THSTensor_add_(Tensor t, Tensor other, double alpha) { QS_CATCH_STATUS(t->add_(*other, scalar_for(*t, alpha));) }
QS_EXPORT int THSTensor_add_scalar_(Tensor t, double v) { QS_CATCH_STATUS(t->add_(scalar_for(*t, v));) }
QS_EXPORT int THSTensor_mul_(Tensor t, Tensor other) { QS_CATCH_STATUS(t->mul_(*other);) }
QS_EXPORT int THSTensor_mul_scalar_(Tensor t, double v) { QS_CATCH_STATUS(t->mul_(scalar_for(*t, v));) }
QS_EXPORT int THSTensor_div_(Tensor t, Tensor other) { QS_CATCH_STATUS(t->div_(*other);) }
QS_EXPORT int THSTensor_addcmul_(Tensor t, Tensor a, Tensor b, double value) { QS_CATCH_STATUS(t->addcmul_(*a, *b, value);) }
QS_EXPORT int THSTensor_addcdiv_(Tensor t, Tensor a, Tensor b, double value) { QS_CATCH_STATUS(t->addcdiv_(*a, *b, value);) }
QS_EXPORT int THSTensor_copy_(Tensor t, Tensor src) { QS_CATCH_STATUS(t->copy_(*src);) }
QS_EXPORT int THSTensor_zero_(Tensor t) { QS_CATCH_STATUS(t->zero_();) }
QS_EXPORT int THSTensor_fill_(Tensor t, double v) { QS_CATCH_STATUS(t->fill_(scalar_for(*t, v));) }
QS_EXPORT int THSTensor_clamp_(Tensor t, double min, double max) { QS_CATCH_STATUS(t->clamp_(min, max);) }
QS_EXPORT int THSTensor_uniform_(Tensor t, double from, double to) { QS_CATCH_STATUS(t->uniform_(from, to);) }
QS_EXPORT int THSTensor_normal_(Tensor t, double mean, double std) { QS_CATCH_STATUS(t->normal_(mean, std);) }
QS_EXPORT int THSTensor_lerp_(Tensor t, Tensor end, double weight) { QS_CATCH_STATUS(t->lerp_(*end, weight);) }
QS_EXPORT int THSTensor_sqrt_(Tensor t) { QS_CATCH_STATUS(t->sqrt_();) }

// ---- reductions ----------------------------------------------------------------------------

QS_EXPORT Tensor THSTensor_sum(Tensor t) { QS_CATCH_TENSOR(t->sum()) }
QS_EXPORT Tensor THSTensor_mean(Tensor t) { QS_CATCH_TENSOR(t->mean()) }
QS_EXPORT Tensor THSTensor_max(Tensor t) { QS_CATCH_TENSOR(t->max()) }
QS_EXPORT Tensor THSTensor_min(Tensor t) { QS_CATCH_TENSOR(t->min()) }
QS_EXPORT Tensor THSTensor_norm(Tensor t, double p) { QS_CATCH_TENSOR(t->norm(p)) }
QS_EXPORT Tensor THSTensor_sum_dim(Tensor t, const int64_t* d, int nd, int keepdim) { QS_CATCH_TENSOR(t->sum(dims(d, nd), keepdim != 0)) }
QS_EXPORT Tensor THSTensor_mean_dim(Tensor t, const int64_t* d, int nd, int keepdim) { QS_CATCH_TENSOR(t->mean(dims(d, nd), keepdim != 0)) }
QS_EXPORT Tensor THSTensor_argmax(Tensor t, int64_t dim, int keepdim) { QS_CATCH_TENSOR(t->argmax(dim, keepdim != 0)) }
QS_EXPORT Tensor THSTensor_argmin(Tensor t, int64_t dim, int keepdim) { QS_CATCH_TENSOR(t->argmin(dim, keepdim != 0)) }

// (values, indices) pairs come back through two out-handles.
QS_EXPORT int THSTensor_max_dim(Tensor t, int64_t dim, int keepdim, Tensor* values, Tensor* indices)
{
    QS_CATCH_STATUS(auto r = t->max(dim, keepdim != 0); *values = qs::wrap(std::get<0>(r)); *indices = qs::wrap(std::get<1>(r));)
}

QS_EXPORT int THSTensor_min_dim(Tensor t, int64_t dim, int keepdim, Tensor* values, Tensor* indices)
{
    QS_CATCH_STATUS(auto r = t->min(dim, keepdim != 0); *values = qs::wrap(std::get<0>(r)); *indices = qs::wrap(std::get<1>(r));)
}

QS_EXPORT int THSTensor_sort(Tensor t, int64_t dim, int descending, Tensor* values, Tensor* indices)
{
    QS_CATCH_STATUS(auto r = t->sort(dim, descending != 0); *values = qs::wrap(std::get<0>(r)); *indices = qs::wrap(std::get<1>(r));)
}

QS_EXPORT int THSTensor_topk(Tensor t, int64_t k, int64_t dim, int largest, int sorted, Tensor* values, Tensor* indices)
{
    QS_CATCH_STATUS(auto r = t->topk(k, dim, largest != 0, sorted != 0); *values = qs::wrap(std::get<0>(r));
                    *indices = qs::wrap(std::get<1>(r));)
}

QS_EXPORT Tensor THSTensor_bincount(Tensor t, Tensor weights, int64_t minlength) { QS_CATCH_TENSOR(t->bincount(qs::opt(weights), minlength)) }
QS_EXPORT Tensor THSTensor_histc(Tensor t, int64_t bins, double min, double max) { QS_CATCH_TENSOR(t->histc(bins, min, max)) }
QS_EXPORT Tensor THSTensor_quantile(Tensor t, Tensor q) { QS_CATCH_TENSOR(at::quantile(*t, *q)) }
QS_EXPORT Tensor THSTensor_cumsum(Tensor t, int64_t dim) { QS_CATCH_TENSOR(t->cumsum(dim)) }
QS_EXPORT Tensor THSTensor_searchsorted(Tensor sorted, Tensor values, int right)
{
    QS_CATCH_TENSOR(at::searchsorted(*sorted, *values, false, right != 0))
}

// ---- shape ---------------------------------------------------------------------------------

QS_EXPORT Tensor THSTensor_reshape(Tensor t, const int64_t* shape, int nd) { QS_CATCH_TENSOR(t->reshape(dims(shape, nd))) }
QS_EXPORT Tensor THSTensor_view(Tensor t, const int64_t* shape, int nd) { QS_CATCH_TENSOR(t->view(dims(shape, nd))) }
QS_EXPORT Tensor THSTensor_flatten(Tensor t, int64_t start, int64_t end) { QS_CATCH_TENSOR(t->flatten(start, end)) }
QS_EXPORT Tensor THSTensor_permute(Tensor t, const int64_t* order, int nd) { QS_CATCH_TENSOR(t->permute(dims(order, nd))) }
QS_EXPORT Tensor THSTensor_transpose(Tensor t, int64_t d0, int64_t d1) { QS_CATCH_TENSOR(t->transpose(d0, d1)) }
QS_EXPORT Tensor THSTensor_unsqueeze(Tensor t, int64_t d) { QS_CATCH_TENSOR(t->unsqueeze(d)) }
QS_EXPORT Tensor THSTensor_squeeze(Tensor t, int64_t d) { QS_CATCH_TENSOR(t->squeeze(d)) }
QS_EXPORT Tensor THSTensor_expand(Tensor t, const int64_t* shape, int nd) { QS_CATCH_TENSOR(t->expand(dims(shape, nd))) }
QS_EXPORT Tensor THSTensor_narrow(Tensor t, int64_t dim, int64_t start, int64_t length) { QS_CATCH_TENSOR(t->narrow(dim, start, length)) }
QS_EXPORT Tensor THSTensor_slice(Tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) { QS_CATCH_TENSOR(t->slice(dim, start, end, step)) }
QS_EXPORT Tensor THSTensor_select(Tensor t, int64_t dim, int64_t index) { QS_CATCH_TENSOR(t->select(dim, index)) }
QS_EXPORT Tensor THSTensor_index_select(Tensor t, int64_t dim, Tensor index) { QS_CATCH_TENSOR(t->index_select(dim, *index)) }
QS_EXPORT Tensor THSTensor_gather(Tensor t, int64_t dim, Tensor index) { QS_CATCH_TENSOR(t->gather(dim, *index)) }
QS_EXPORT Tensor THSTensor_masked_select(Tensor t, Tensor mask) { QS_CATCH_TENSOR(t->masked_select(*mask)) }
QS_EXPORT Tensor THSTensor_one_hot(Tensor t, int64_t classes) { QS_CATCH_TENSOR(at::one_hot(*t, classes)) }
QS_EXPORT Tensor THSTensor_flip(Tensor t, const int64_t* d, int nd) { QS_CATCH_TENSOR(t->flip(dims(d, nd))) }

static std::vector<at::Tensor> tensor_list(const Tensor* ts, int n)
{
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++)
        v.push_back(*ts[i]);
    return v;
}

QS_EXPORT Tensor THSTensor_cat(const Tensor* ts, int n, int64_t dim) { QS_CATCH_TENSOR(at::cat(tensor_list(ts, n), dim)) }
QS_EXPORT Tensor THSTensor_stack(const Tensor* ts, int n, int64_t dim) { QS_CATCH_TENSOR(at::stack(tensor_list(ts, n), dim)) }
