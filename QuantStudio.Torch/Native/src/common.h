// Shared plumbing for the QuantStudio libtorch shim.
//
// Conventions (after TorchSharp's LibTorchSharp):
//  * every exported function is `extern "C"`, named THS<Area>_<op>, and never lets an exception
//    unwind across the C boundary: std::exception and `...` are caught, the message is stored in
//    a thread-local slot, and a sentinel (nullptr / -1 / 0) is returned;
//  * a tensor crosses the boundary as an opaque `at::Tensor*` allocated per result and freed by
//    THSTensor_dispose; a live counter lets tests prove that nothing leaks.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <atomic>
#include <cstdint>
#include <string>

#define QS_EXPORT extern "C" __attribute__((visibility("default")))

typedef at::Tensor* Tensor;

namespace qs {

void set_last_error(const std::string& message);
extern std::atomic<int64_t> live_tensors;

inline Tensor wrap(at::Tensor&& t)
{
    live_tensors.fetch_add(1, std::memory_order_relaxed);
    return new at::Tensor(std::move(t));
}

inline Tensor wrap(const at::Tensor& t)
{
    live_tensors.fetch_add(1, std::memory_order_relaxed);
    return new at::Tensor(t);
}

// A null handle means "absent" (an optional bias, say); an undefined tensor is libtorch's equivalent.
inline at::Tensor opt(Tensor t) { return t == nullptr ? at::Tensor() : *t; }

inline at::IntArrayRef dims(const int64_t* values, int length) { return at::IntArrayRef(values, static_cast<size_t>(length)); }

inline at::Scalar scalar(double value, bool is_integral)
{
    if (is_integral)
        return at::Scalar(static_cast<int64_t>(value));
    return at::Scalar(value);
}

inline at::TensorOptions options(int8_t dtype, int device_type, int device_index)
{
    return at::TensorOptions()
        .dtype(static_cast<at::ScalarType>(dtype))
        .device(at::Device(static_cast<at::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index)));
}

} // namespace qs

#define QS_CATCH(body)                                                      \
    try {                                                                   \
        body                                                                \
    } catch (const c10::Error& e) {                                         \
        qs::set_last_error(e.what_without_backtrace());                     \
    } catch (const std::exception& e) {                                     \
        qs::set_last_error(e.what());                                       \
    } catch (...) {                                                         \
        qs::set_last_error("unknown native exception in libqstorch");       \
    }

// Returns a new handle for `expr`, or nullptr with the error recorded.
#define QS_CATCH_TENSOR(expr)                                               \
    QS_CATCH(return qs::wrap(expr);)                                        \
    return nullptr;

// Runs `body`; returns 0 on success, -1 with the error recorded.
#define QS_CATCH_STATUS(body)                                               \
    QS_CATCH(body; return 0;)                                               \
    return -1;
