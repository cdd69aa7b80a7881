namespace QuantStudio.Core.Models.Layers;

/// <summary>Factories of the weighted layers the zoo builds its networks from (their weights can be quantized in place).</summary>
public static class Layer
{
    public static TransformableConv2d Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0,
        long dilation = 1, long groups = 1, bool hasBias = true) =>
        new(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, hasBias);

    public static TransformableLinear Linear(long in_features, long out_features, bool hasBias = true) => new(in_features, out_features, hasBias);

    /// <summary>Batch normalization over channels (see <see cref="BatchNorm2dLayer"/> for why not TorchSharp's own).</summary>
    public static BatchNorm2dLayer BatchNorm2d(long num_features) => new(num_features);

    public static TransformableEmbedding Embedding(long num_embeddings, long embedding_dim) => new(num_embeddings, embedding_dim);

    public static TransformableLstm Lstm(long input_size, long hidden_size, long num_layers = 1, bool batch_first = false, double dropout = 0) =>
        new(input_size, hidden_size, num_layers, batch_first, dropout);
}
