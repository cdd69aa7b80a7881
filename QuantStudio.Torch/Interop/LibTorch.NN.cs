using System.Runtime.InteropServices;

namespace QuantStudio.Torch.Interop;

// Declarations for Native/src/THSNN.cpp.
internal static unsafe partial class LibTorch
{
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_conv2d(IntPtr input, IntPtr weight, IntPtr bias, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_linear(IntPtr input, IntPtr weight, IntPtr bias);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_batch_norm(IntPtr input, IntPtr weight, IntPtr bias, IntPtr running_mean, IntPtr running_var, int training, double momentum, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_relu(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_relu6(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_gelu(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_max_pool2d(IntPtr t, long* kernel, long* stride, long* padding, int ceil_mode);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_avg_pool2d(IntPtr t, long* kernel, long* stride, long* padding, int ceil_mode, int count_include_pad);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_adaptive_avg_pool2d(IntPtr t, long* output_size);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_dropout(IntPtr t, double p, int training);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_softmax(IntPtr t, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_log_softmax(IntPtr t, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_cross_entropy(IntPtr input, IntPtr target, IntPtr weight, long reduction, long ignore_index, double label_smoothing);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_nll_loss(IntPtr input, IntPtr target, IntPtr weight, long reduction, long ignore_index);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_kl_div(IntPtr input, IntPtr target, long reduction, int log_target);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_mse_loss(IntPtr input, IntPtr target, long reduction);
    [LibraryImport(Lib)] internal static partial IntPtr THSNN_embedding(IntPtr weight, IntPtr indices, long padding_idx);
    [LibraryImport(Lib)] internal static partial int THSNN_lstm(IntPtr input, IntPtr h0, IntPtr c0, IntPtr* @params, int nparams, int has_biases, long num_layers, double dropout, int training, int batch_first, IntPtr* output, IntPtr* h_n, IntPtr* c_n);
}
