using QuantStudio.Torch.Modules;

namespace QuantStudio.Torch;

public static unsafe partial class torch
{
    // Module factories with TorchSharp's names: torch.nn.Linear(4, 8), torch.nn.Sequential(...).
    public static partial class nn
    {
        /// <summary>
        /// A trainable leaf tensor sharing <paramref name="data"/>'s storage (PyTorch's nn.Parameter).
        /// Parameters are plain tensors that require gradients.
        /// </summary>
        public static Tensor Parameter(Tensor data, bool requires_grad = true) => data.detach().requires_grad_(requires_grad);

        public static Modules.Linear Linear(long in_features, long out_features, bool hasBias = true, ScalarType dtype = ScalarType.Float32) =>
            new(in_features, out_features, hasBias, dtype);

        public static Modules.Conv2d Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0,
            long dilation = 1, long groups = 1, bool hasBias = true, ScalarType dtype = ScalarType.Float32) =>
            new(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, hasBias, dtype);

        public static Modules.Conv2d Conv2d(long in_channels, long out_channels, (long, long) kernel_size, (long, long) stride,
            (long, long) padding, (long, long)? dilation = null, long groups = 1, bool hasBias = true, ScalarType dtype = ScalarType.Float32) =>
            new(in_channels, out_channels, kernel_size, stride, padding, dilation ?? (1, 1), groups, hasBias, dtype);

        public static BatchNorm1d BatchNorm1d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
            bool track_running_stats = true, ScalarType dtype = ScalarType.Float32) =>
            new(num_features, eps, momentum, affine, track_running_stats, dtype);

        public static BatchNorm2d BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
            bool track_running_stats = true, ScalarType dtype = ScalarType.Float32) =>
            new(num_features, eps, momentum, affine, track_running_stats, dtype);

        public static Modules.Dropout Dropout(double p = 0.5) => new(p);
        public static Modules.ReLU ReLU() => new();
        public static Modules.ReLU6 ReLU6() => new();
        public static Modules.Flatten Flatten(long start_dim = 1, long end_dim = -1) => new(start_dim, end_dim);

        public static Modules.MaxPool2d MaxPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false) =>
            new(kernel_size, stride, padding, ceil_mode);

        public static Modules.AvgPool2d AvgPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false,
            bool count_include_pad = true) =>
            new(kernel_size, stride, padding, ceil_mode, count_include_pad);

        public static Modules.AdaptiveAvgPool2d AdaptiveAvgPool2d(long output_size) => new(output_size);
        public static Modules.AdaptiveAvgPool2d AdaptiveAvgPool2d((long, long) output_size) => new(output_size);

        public static Modules.Embedding Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null,
            ScalarType dtype = ScalarType.Float32) =>
            new(num_embeddings, embedding_dim, padding_idx, dtype);

        public static Modules.LSTM LSTM(long input_size, long hidden_size, long num_layers = 1, bool hasBias = true, bool batch_first = false,
            double dropout = 0, ScalarType dtype = ScalarType.Float32) =>
            new(input_size, hidden_size, num_layers, hasBias, batch_first, dropout, dtype);

        public static Modules.Sequential Sequential(params Module<Tensor, Tensor>[] modules) => new(modules);
        public static Modules.Sequential Sequential(params (string name, Module<Tensor, Tensor> module)[] modules) => new(modules);
    }
}
