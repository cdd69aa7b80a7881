// torch.nn.functional: convolution, normalization, pooling, activations, losses, embedding, LSTM.
#include "common.h"

using qs::dims;

// reduction codes follow at::Reduction: 0 = none, 1 = mean, 2 = sum.

QS_EXPORT Tensor THSNN_conv2d(Tensor input, Tensor weight, Tensor bias, const int64_t* stride, const int64_t* padding,
                              const int64_t* dilation, int64_t groups)
{
    QS_CATCH_TENSOR(at::conv2d(*input, *weight, qs::opt(bias), dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups))
}

QS_EXPORT Tensor THSNN_linear(Tensor input, Tensor weight, Tensor bias) { QS_CATCH_TENSOR(at::linear(*input, *weight, qs::opt(bias))) }

QS_EXPORT Tensor THSNN_batch_norm(Tensor input, Tensor weight, Tensor bias, Tensor running_mean, Tensor running_var, int training,
                                  double momentum, double eps)
{
    QS_CATCH_TENSOR(at::batch_norm(*input, qs::opt(weight), qs::opt(bias), qs::opt(running_mean), qs::opt(running_var), training != 0,
                                   momentum, eps, true))
}

QS_EXPORT Tensor THSNN_relu(Tensor t) { QS_CATCH_TENSOR(at::relu(*t)) }
QS_EXPORT Tensor THSNN_relu6(Tensor t) { QS_CATCH_TENSOR(at::hardtanh(*t, 0.0, 6.0)) }
QS_EXPORT Tensor THSNN_gelu(Tensor t) { QS_CATCH_TENSOR(at::gelu(*t)) }

QS_EXPORT Tensor THSNN_max_pool2d(Tensor t, const int64_t* kernel, const int64_t* stride, const int64_t* padding, int ceil_mode)
{
    QS_CATCH_TENSOR(at::max_pool2d(*t, dims(kernel, 2), dims(stride, 2), dims(padding, 2), at::IntArrayRef({1, 1}), ceil_mode != 0))
}

QS_EXPORT Tensor THSNN_avg_pool2d(Tensor t, const int64_t* kernel, const int64_t* stride, const int64_t* padding, int ceil_mode,
                                  int count_include_pad)
{
    QS_CATCH_TENSOR(at::avg_pool2d(*t, dims(kernel, 2), dims(stride, 2), dims(padding, 2), ceil_mode != 0, count_include_pad != 0))
}

QS_EXPORT Tensor THSNN_adaptive_avg_pool2d(Tensor t, const int64_t* output_size)
{
    QS_CATCH_TENSOR(at::adaptive_avg_pool2d(*t, dims(output_size, 2)))
}

QS_EXPORT Tensor THSNN_dropout(Tensor t, double p, int training) { QS_CATCH_TENSOR(at::dropout(*t, p, training != 0)) }
QS_EXPORT Tensor THSNN_softmax(Tensor t, int64_t dim) { QS_CATCH_TENSOR(at::softmax(*t, dim)) }
QS_EXPORT Tensor THSNN_log_softmax(Tensor t, int64_t dim) { QS_CATCH_TENSOR(at::log_softmax(*t, dim)) }

QS_EXPORT Tensor THSNN_cross_entropy(Tensor input, Tensor target, Tensor weight, int64_t reduction, int64_t ignore_index,
                                     double label_smoothing)
{
    QS_CATCH_TENSOR(at::cross_entropy_loss(*input, *target, qs::opt(weight), reduction, ignore_index, label_smoothing))
}

QS_EXPORT Tensor THSNN_nll_loss(Tensor input, Tensor target, Tensor weight, int64_t reduction, int64_t ignore_index)
{
    QS_CATCH_TENSOR(at::nll_loss_nd(*input, *target, qs::opt(weight), reduction, ignore_index))
}

QS_EXPORT Tensor THSNN_kl_div(Tensor input, Tensor target, int64_t reduction, int log_target)
{
    QS_CATCH_TENSOR(at::kl_div(*input, *target, reduction, log_target != 0))
}

QS_EXPORT Tensor THSNN_mse_loss(Tensor input, Tensor target, int64_t reduction) { QS_CATCH_TENSOR(at::mse_loss(*input, *target, reduction)) }

QS_EXPORT Tensor THSNN_embedding(Tensor weight, Tensor indices, int64_t padding_idx)
{
    QS_CATCH_TENSOR(at::embedding(*weight, *indices, padding_idx, false, false))
}

// Multi-layer unidirectional LSTM. `params` holds, per layer, w_ih, w_hh[, b_ih, b_hh] (PyTorch's order).
// h0/c0 may be null (zeros). Returns output, h_n and c_n through out-handles.
QS_EXPORT int THSNN_lstm(Tensor input, Tensor h0, Tensor c0, const Tensor* params, int nparams, int has_biases, int64_t num_layers,
                         double dropout, int training, int batch_first, Tensor* output, Tensor* h_n, Tensor* c_n)
{
    QS_CATCH_STATUS(
        std::vector<at::Tensor> weights;
        weights.reserve(static_cast<size_t>(nparams));
        for (int i = 0; i < nparams; i++)
            weights.push_back(*params[i]);
        int64_t batch = input->size(batch_first ? 0 : 1);
        int64_t hidden = weights[1].size(1);
        at::Tensor h = h0 ? *h0 : at::zeros({num_layers, batch, hidden}, input->options());
        at::Tensor c = c0 ? *c0 : at::zeros({num_layers, batch, hidden}, input->options());
        auto r = at::lstm(*input, {h, c}, weights, has_biases != 0, num_layers, dropout, training != 0, false, batch_first != 0);
        *output = qs::wrap(std::get<0>(r));
        *h_n = qs::wrap(std::get<1>(r));
        *c_n = qs::wrap(std::get<2>(r));)
}
