using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

/// <summary>How a loss reduces over the batch, as in PyTorch.</summary>
public enum Reduction
{
    None = 0,
    Mean = 1,
    Sum = 2,
}

public static unsafe partial class torch
{
    public static partial class nn
    {
        /// <summary>Stateless network functions with TorchSharp's names and PyTorch's semantics.</summary>
        public static class functional
        {
            private static Tensor W(IntPtr h) => Tensor.FromHandle(h);
            private static IntPtr H(Tensor? t) => t?.Handle ?? IntPtr.Zero;
            private static int Flag(bool b) => b ? 1 : 0;

            public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
                conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

            public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias, (long, long) stride, (long, long) padding, (long, long) dilation, long groups = 1)
            {
                long* s = stackalloc long[] { stride.Item1, stride.Item2 };
                long* p = stackalloc long[] { padding.Item1, padding.Item2 };
                long* d = stackalloc long[] { dilation.Item1, dilation.Item2 };
                return W(LibTorch.THSNN_conv2d(input.Handle, weight.Handle, H(bias), s, p, d, groups));
            }

            /// <summary>y = x Wᵀ + b.</summary>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) =>
                W(LibTorch.THSNN_linear(input.Handle, weight.Handle, H(bias)));

            /// <summary>In training mode, normalizes by batch statistics and updates the running ones in place.</summary>
            public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null, Tensor? bias = null,
                bool training = false, double momentum = 0.1, double eps = 1e-5) =>
                W(LibTorch.THSNN_batch_norm(input.Handle, H(weight), H(bias), H(running_mean), H(running_var), Flag(training), momentum, eps));

            public static Tensor relu(Tensor x) => W(LibTorch.THSNN_relu(x.Handle));
            public static Tensor relu6(Tensor x) => W(LibTorch.THSNN_relu6(x.Handle));
            public static Tensor gelu(Tensor x) => W(LibTorch.THSNN_gelu(x.Handle));

            public static Tensor max_pool2d(Tensor input, long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false)
            {
                var st = stride ?? kernel_size;
                long* k = stackalloc long[] { kernel_size, kernel_size };
                long* s = stackalloc long[] { st, st };
                long* p = stackalloc long[] { padding, padding };
                return W(LibTorch.THSNN_max_pool2d(input.Handle, k, s, p, Flag(ceil_mode)));
            }

            public static Tensor avg_pool2d(Tensor input, long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false, bool count_include_pad = true)
            {
                var st = stride ?? kernel_size;
                long* k = stackalloc long[] { kernel_size, kernel_size };
                long* s = stackalloc long[] { st, st };
                long* p = stackalloc long[] { padding, padding };
                return W(LibTorch.THSNN_avg_pool2d(input.Handle, k, s, p, Flag(ceil_mode), Flag(count_include_pad)));
            }

            public static Tensor adaptive_avg_pool2d(Tensor input, long output_h, long output_w)
            {
                long* o = stackalloc long[] { output_h, output_w };
                return W(LibTorch.THSNN_adaptive_avg_pool2d(input.Handle, o));
            }

            public static Tensor adaptive_avg_pool2d(Tensor input, long output_size) => adaptive_avg_pool2d(input, output_size, output_size);

            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true)
            {
                if (p < 0 || p > 1)
                    throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
                return W(LibTorch.THSNN_dropout(input.Handle, p, Flag(training)));
            }

            public static Tensor softmax(Tensor input, long dim) => W(LibTorch.THSNN_softmax(input.Handle, dim));
            public static Tensor log_softmax(Tensor input, long dim) => W(LibTorch.THSNN_log_softmax(input.Handle, dim));

            /// <summary>Cross-entropy over logits (class indices as int64 targets).</summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
                long ignore_index = -100, double label_smoothing = 0) =>
                W(LibTorch.THSNN_cross_entropy(input.Handle, target.Handle, H(weight), (long)reduction, ignore_index, label_smoothing));

            public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignore_index = -100) =>
                W(LibTorch.THSNN_nll_loss(input.Handle, target.Handle, H(weight), (long)reduction, ignore_index));

            /// <summary>
            /// KL(target ‖ input) with <paramref name="input"/> given as log-probabilities, as torch.nn.functional.kl_div.
            /// Use <paramref name="batchmean"/> for the mathematically correct per-sample mean.
            /// </summary>
            public static Tensor kl_div(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool log_target = false, bool batchmean = false)
            {
                if (!batchmean)
                    return W(LibTorch.THSNN_kl_div(input.Handle, target.Handle, (long)reduction, Flag(log_target)));
                using var sum = W(LibTorch.THSNN_kl_div(input.Handle, target.Handle, (long)Reduction.Sum, Flag(log_target)));
                return sum.div((double)input.size(0));
            }

            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                W(LibTorch.THSNN_mse_loss(input.Handle, target.Handle, (long)reduction));

            public static Tensor embedding(Tensor input, Tensor weight, long padding_idx = -1) =>
                W(LibTorch.THSNN_embedding(weight.Handle, input.Handle, padding_idx));

            /// <summary>
            /// Multi-layer unidirectional LSTM over a whole sequence. <paramref name="parameters"/> is, per layer,
            /// w_ih [4H, in], w_hh [4H, H] and, with biases, b_ih [4H], b_hh [4H] — PyTorch's gate order (i, f, g, o).
            /// </summary>
            public static (Tensor output, Tensor h_n, Tensor c_n) lstm(Tensor input, IReadOnlyList<Tensor> parameters, long num_layers,
                Tensor? h0 = null, Tensor? c0 = null, bool has_biases = true, double dropout = 0, bool training = false, bool batch_first = true)
            {
                var per = has_biases ? 4 : 2;
                if (parameters.Count != per * num_layers)
                    throw new ArgumentException($"an LSTM with {num_layers} layers needs {per * num_layers} weight tensors, got {parameters.Count}", nameof(parameters));
                var handles = new IntPtr[parameters.Count];
                for (var i = 0; i < handles.Length; i++)
                    handles[i] = parameters[i].Handle;
                IntPtr o, h, c;
                fixed (IntPtr* p = handles)
                    NativeError.CheckStatus(LibTorch.THSNN_lstm(input.Handle, H(h0), H(c0), p, handles.Length, Flag(has_biases), num_layers,
                        dropout, Flag(training), Flag(batch_first), &o, &h, &c));
                return (new Tensor(o), new Tensor(h), new Tensor(c));
            }
        }
    }
}
