// Reverse-mode autograd on tensors: backward, .grad, zeroing.
#include "common.h"

QS_EXPORT int THSTensor_backward(Tensor t, Tensor grad, int retain_graph, int create_graph)
{
    QS_CATCH_STATUS(t->backward(qs::opt(grad), retain_graph ? c10::optional<bool>(true) : c10::nullopt, create_graph != 0);)
}

// Returns nullptr without an error when the tensor has no gradient yet.
QS_EXPORT Tensor THSTensor_grad(Tensor t)
{
    QS_CATCH(
        const at::Tensor& g = t->grad();
        if (!g.defined())
            return nullptr;
        return qs::wrap(g);)
    return nullptr;
}

QS_EXPORT int THSTensor_set_grad(Tensor t, Tensor grad) { QS_CATCH_STATUS(t->mutable_grad() = qs::opt(grad);) }

// set_to_none mirrors torch.optim.Optimizer.zero_grad(set_to_none=True), PyTorch 2's default.
QS_EXPORT int THSTensor_zero_grad(Tensor t, int set_to_none)
{
    QS_CATCH_STATUS(
        at::Tensor& g = t->mutable_grad();
        if (g.defined()) {
            if (set_to_none)
                g.reset();
            else {
                g.detach_();
                g.zero_();
            }
        })
}

QS_EXPORT int THSTensor_retain_grad(Tensor t) { QS_CATCH_STATUS(t->retain_grad();) }
