using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Torch.Modules;

/// <summary>
/// Multi-layer unidirectional LSTM with PyTorch's parameter names (weight_ih_l0, weight_hh_l0,
/// bias_ih_l0, bias_hh_l0, ...), gate order (i, f, g, o) and initialization U(±1/√hidden_size).
/// Input is [T, N, input_size], or [N, T, input_size] with batch_first.
/// </summary>
public sealed class LSTM : Module<Tensor, (Tensor output, Tensor h_n, Tensor c_n)>, IWeightTransformable
{
    public LSTM(long input_size, long hidden_size, long num_layers = 1, bool hasBias = true, bool batch_first = false, double dropout = 0,
        ScalarType dtype = ScalarType.Float32) : base(nameof(LSTM))
    {
        LayerChecks.Positive(input_size, nameof(input_size));
        LayerChecks.Positive(hidden_size, nameof(hidden_size));
        LayerChecks.Positive(num_layers, nameof(num_layers));
        LayerChecks.Probability(dropout, nameof(dropout));
        this.input_size = input_size;
        this.hidden_size = hidden_size;
        this.num_layers = num_layers;
        bias = hasBias;
        this.batch_first = batch_first;
        this.dropout = dropout;
        for (var layer = 0; layer < num_layers; layer++)
        {
            var layerInput = layer == 0 ? input_size : hidden_size;
            register_parameter($"weight_ih_l{layer}", torch.empty([4 * hidden_size, layerInput], dtype, requires_grad: true));
            register_parameter($"weight_hh_l{layer}", torch.empty([4 * hidden_size, hidden_size], dtype, requires_grad: true));
            if (hasBias)
            {
                register_parameter($"bias_ih_l{layer}", torch.empty([4 * hidden_size], dtype, requires_grad: true));
                register_parameter($"bias_hh_l{layer}", torch.empty([4 * hidden_size], dtype, requires_grad: true));
            }
        }
        reset_parameters();
    }

    public long input_size { get; }
    public long hidden_size { get; }
    public long num_layers { get; }
    public bool bias { get; }
    public bool batch_first { get; }
    /// <summary>Dropout on the outputs of every layer but the last, in training only.</summary>
    public double dropout { get; }

    /// <summary>Applied to every weight matrix (weight_ih_l*, weight_hh_l*), not to the biases.</summary>
    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights() =>
        named_parameters(recurse: false).Where(p => p.name.StartsWith("weight_", StringComparison.Ordinal)).ToList();

    public void reset_parameters()
    {
        var bound = 1 / Math.Sqrt(hidden_size);
        foreach (var p in parameters(recurse: false))
            torch.nn.init.uniform_(p, -bound, bound);
    }

    public override (Tensor output, Tensor h_n, Tensor c_n) forward(Tensor input) => forward(input, null, null);

    /// <summary>Runs the sequence from the states h0, c0 [num_layers, N, hidden_size] (zeros when null).</summary>
    public (Tensor output, Tensor h_n, Tensor c_n) forward(Tensor input, Tensor? h0, Tensor? c0)
    {
        if (input.dim() != 3)
            throw new ArgumentException($"LSTM expects 3-d input ({(batch_first ? "[N, T, input_size]" : "[T, N, input_size]")}), got {input.dim()}-d", nameof(input));
        if (input.size(2) != input_size)
            throw new ArgumentException($"LSTM expects input_size {input_size} in the last dimension, got {input.size(2)}", nameof(input));
        var weights = named_parameters(recurse: false)
            .Select(p => p.name.StartsWith("weight_", StringComparison.Ordinal) ? WeightTransform.Effective(p.parameter) : p.parameter)
            .ToList();
        return F.lstm(input, weights, num_layers, h0, c0, bias, dropout, training, batch_first);
    }
}
