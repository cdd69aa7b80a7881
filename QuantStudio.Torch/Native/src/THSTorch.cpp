// Process-wide state: errors, RNG seed, threads, devices, autocast, grad mode.
// libtorch API headers first: common.h's global `Tensor` handle typedef would clash inside them.
#include <ATen/autocast_mode.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

#include <cstdlib>
#include <cstring>

namespace qs {
std::atomic<int64_t> live_tensors{0};
static thread_local char* last_error = nullptr;

void set_last_error(const std::string& message)
{
    std::free(last_error);
    last_error = strdup(message.c_str());
}
} // namespace qs

// Hands the pending error (malloc'd, caller frees with THSTorch_free_string) to the caller, or nullptr.
QS_EXPORT char* THSTorch_get_and_reset_last_err()
{
    char* e = qs::last_error;
    qs::last_error = nullptr;
    return e;
}

QS_EXPORT void THSTorch_free_string(char* s) { std::free(s); }

QS_EXPORT int64_t THSTensor_live_count() { return qs::live_tensors.load(std::memory_order_relaxed); }

QS_EXPORT int THSTorch_manual_seed(int64_t seed) { QS_CATCH_STATUS(torch::manual_seed(static_cast<uint64_t>(seed));) }

QS_EXPORT int THSTorch_set_num_threads(int n) { QS_CATCH_STATUS(at::set_num_threads(n);) }
QS_EXPORT int THSTorch_get_num_threads() { QS_CATCH(return at::get_num_threads();) return -1; }
QS_EXPORT int THSTorch_set_num_interop_threads(int n) { QS_CATCH_STATUS(at::set_num_interop_threads(n);) }

QS_EXPORT int THSTorch_cuda_is_available() { QS_CATCH(return torch::cuda::is_available() ? 1 : 0;) return 0; }
QS_EXPORT int THSTorch_cuda_device_count() { QS_CATCH(return static_cast<int>(torch::cuda::device_count());) return 0; }

QS_EXPORT const char* THSTorch_version() { return TORCH_VERSION; }

// Configuration string of the libtorch build (BLAS, oneDNN, OpenMP), for diagnostics.
QS_EXPORT char* THSTorch_config()
{
    QS_CATCH(return strdup(at::show_config().c_str());)
    return nullptr;
}

QS_EXPORT int THSAutograd_is_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
QS_EXPORT void THSAutograd_set_grad_enabled(int enabled) { c10::GradMode::set_enabled(enabled != 0); }

// CPU autocast is thread-local state in libtorch; the managed side wraps it in a scope object.
QS_EXPORT int THSAutocast_is_cpu_enabled() { return at::autocast::is_cpu_enabled() ? 1 : 0; }
QS_EXPORT int THSAutocast_set_cpu_enabled(int enabled) { QS_CATCH_STATUS(at::autocast::set_cpu_enabled(enabled != 0);) }
QS_EXPORT int8_t THSAutocast_get_cpu_dtype() { return static_cast<int8_t>(at::autocast::get_autocast_cpu_dtype()); }
QS_EXPORT int THSAutocast_set_cpu_dtype(int8_t dtype) { QS_CATCH_STATUS(at::autocast::set_autocast_cpu_dtype(static_cast<at::ScalarType>(dtype));) }
QS_EXPORT int THSAutocast_increment_nesting() { return at::autocast::increment_nesting(); }
QS_EXPORT int THSAutocast_decrement_nesting() { return at::autocast::decrement_nesting(); }
QS_EXPORT void THSAutocast_clear_cache() { QS_CATCH(at::autocast::clear_cache();) }

// glibc hands large freed blocks back to the kernel (munmap, or trimming the heap top), so the
// next training step page-faults the same activations in again: tens of thousands of faults per
// step for a small CNN at batch 64. Serving blocks up to `mmap_threshold` from the heap and
// trimming only above `trim_threshold` keeps them in the process for reuse. Returns 1 when
// applied, 0 where the C library has no such knobs (non-glibc), -1 on a rejected value.
QS_EXPORT int THSTorch_retain_freed_memory(int64_t mmap_threshold, int64_t trim_threshold)
{
#if defined(__GLIBC__)
    QS_CATCH(
        if (mmap_threshold < 0 || mmap_threshold > INT32_MAX || trim_threshold < 0 || trim_threshold > INT32_MAX)
            throw std::invalid_argument("allocator thresholds must be between 0 and 2^31-1 bytes");
        if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) != 1)
            throw std::invalid_argument("glibc rejected M_MMAP_THRESHOLD=" + std::to_string(mmap_threshold) + " (at most 32 MiB on 64-bit)");
        if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) != 1)
            throw std::invalid_argument("glibc rejected M_TRIM_THRESHOLD=" + std::to_string(trim_threshold));
        return 1;)
    return -1;
#else
    return 0;
#endif
}
