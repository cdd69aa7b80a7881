using QuantStudio.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantStudio.Core.Models.Layers;

/// <summary>
/// Multi-layer unidirectional LSTM with PyTorch's parameter names (weight_ih_l0, weight_hh_l0,
/// bias_ih_l0, bias_hh_l0, ...), gate order (i, f, g, o) and initialization U(±1/√hidden_size),
/// written out in tensor ops so that its weight matrices can pass through a transform (TorchSharp's
/// LSTM keeps its weights inside the native module). Each layer projects the whole sequence's
/// input in one matrix product and then steps through time.
/// Input is [T, N, input_size], or [N, T, input_size] with batch_first.
/// </summary>
public sealed class TransformableLstm : nn.Module<Tensor, (Tensor output, Tensor h_n, Tensor c_n)>, IWeightTransformable
{
    private readonly List<(Parameter wih, Parameter whh, Parameter bih, Parameter bhh)> layers = [];

    public TransformableLstm(long input_size, long hidden_size, long num_layers = 1, bool batch_first = false, double dropout = 0) : base("LSTM")
    {
        ShapeGuards.Positive(input_size, nameof(input_size));
        ShapeGuards.Positive(hidden_size, nameof(hidden_size));
        ShapeGuards.Positive(num_layers, nameof(num_layers));
        if (dropout is < 0 or > 1 || double.IsNaN(dropout))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be a probability in [0, 1]");
        this.input_size = input_size;
        this.hidden_size = hidden_size;
        this.num_layers = num_layers;
        this.batch_first = batch_first;
        this.dropout = dropout;
        var bound = 1 / Math.Sqrt(hidden_size);
        using var noGrad = torch.no_grad();
        for (var layer = 0; layer < num_layers; layer++)
        {
            var layerInput = layer == 0 ? input_size : hidden_size;
            var p = (LayerInit.Parameter([4 * hidden_size, layerInput]), LayerInit.Parameter([4 * hidden_size, hidden_size]),
                LayerInit.Parameter([4 * hidden_size]), LayerInit.Parameter([4 * hidden_size]));
            register_parameter($"weight_ih_l{layer}", p.Item1);
            register_parameter($"weight_hh_l{layer}", p.Item2);
            register_parameter($"bias_ih_l{layer}", p.Item3);
            register_parameter($"bias_hh_l{layer}", p.Item4);
            foreach (var t in new[] { p.Item1, p.Item2, p.Item3, p.Item4 })
                t.uniform_(-bound, bound);
            layers.Add(p);
        }
    }

    public long input_size { get; }
    public long hidden_size { get; }
    public long num_layers { get; }
    public bool batch_first { get; }
    /// <summary>Dropout on the outputs of every layer but the last, in training only.</summary>
    public double dropout { get; }

    /// <summary>Applied to every weight matrix (weight_ih_l*, weight_hh_l*), not to the biases.</summary>
    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    public IEnumerable<(string name, Tensor weight)> transformable_weights()
    {
        for (var l = 0; l < layers.Count; l++)
        {
            yield return ($"weight_ih_l{l}", layers[l].wih);
            yield return ($"weight_hh_l{l}", layers[l].whh);
        }
    }

    public override (Tensor output, Tensor h_n, Tensor c_n) forward(Tensor input)
    {
        ShapeGuards.Dimensions(input, "LSTM", 3);
        ShapeGuards.Size(input, 2, input_size, "LSTM", "input_size in the last dimension");
        using var scope = NewDisposeScope();
        var x = batch_first ? input : input.transpose(0, 1); // [N, T, features]
        var n = x.size(0);
        var steps = x.size(1);
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        for (var l = 0; l < layers.Count; l++)
        {
            var (wih, whh, bih, bhh) = layers[l];
            var wi = ComputePrecision.Operand(WeightTransform.Effective(wih));
            var wh = ComputePrecision.Operand(WeightTransform.Effective(whh));
            var projected = ComputePrecision.Result(nn.functional.linear(ComputePrecision.Operand(x), wi, ComputePrecision.Operand(bih.Plus(bhh))));
            var h = zeros([n, hidden_size], x.dtype);
            var c = zeros([n, hidden_size], x.dtype);
            var outputs = new Tensor[steps];
            for (var t = 0; t < steps; t++)
            {
                var gates = projected.select(1, t).Plus(ComputePrecision.Result(ComputePrecision.Operand(h).matmul(wh.t())));
                var chunks = gates.chunk(4, 1);
                var i = chunks[0].sigmoid();
                var f = chunks[1].sigmoid();
                var g = chunks[2].tanh();
                var o = chunks[3].sigmoid();
                c = f.mul(c).Plus(i.mul(g));
                h = o.mul(c.tanh());
                outputs[t] = h;
            }
            x = stack(outputs, 1);
            if (l < layers.Count - 1 && dropout > 0)
                x = nn.functional.dropout(x, dropout, training);
            hs.Add(h);
            cs.Add(c);
        }
        var output = batch_first ? x : x.transpose(0, 1);
        return scope.MoveToOuter(output, stack(hs, 0), stack(cs, 0));
    }
}
