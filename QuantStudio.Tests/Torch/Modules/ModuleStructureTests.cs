using QuantStudio.Torch;
using QuantStudio.Torch.Modules;

namespace QuantStudio.Tests.Torch;

public class ModuleStructureTests
{
    [Fact]
    public void Parameter_counts_match_the_layer_formulas()
    {
        // Linear: in·out + out. Conv2d: out·(in/groups)·k² + out. BatchNorm: 2·C (buffers are not parameters).
        using var linear = torch.nn.Linear(10, 5);
        Assert.Equal(10 * 5 + 5, linear.num_parameters());
        using var conv = torch.nn.Conv2d(3, 8, 3);
        Assert.Equal(8 * 3 * 3 * 3 + 8, conv.num_parameters());
        using var grouped = torch.nn.Conv2d(4, 8, 3, groups: 2, hasBias: false);
        Assert.Equal(8 * (4 / 2) * 3 * 3, grouped.num_parameters());
        using var bn = torch.nn.BatchNorm2d(16);
        Assert.Equal(2 * 16, bn.num_parameters());
        using var embedding = torch.nn.Embedding(10, 3);
        Assert.Equal(30, embedding.num_parameters());

        // PyTorch's LSTM count: per layer 4H·(in_l + H) weights and 2·4H biases, in_l = input for layer 0, H after.
        using var lstm = torch.nn.LSTM(4, 8, num_layers: 2);
        long expected = 0;
        foreach (var layerInput in new long[] { 4, 8 })
            expected += 4 * 8 * (layerInput + 8) + 2 * 4 * 8;
        Assert.Equal(1024, expected);
        Assert.Equal(expected, lstm.num_parameters());

        using var mlp = torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2));
        Assert.Equal(55 + 12, mlp.num_parameters());
        mlp[0].parameters().First().requires_grad = false;
        Assert.Equal(5 + 12, mlp.num_parameters(only_trainable: true));
    }

    [Fact]
    public void Names_are_dotted_and_in_pytorch_order()
    {
        using var model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"], model.named_parameters().Select(p => p.name));
        Assert.Equal(["2.running_mean", "2.running_var", "2.num_batches_tracked"], model.named_buffers().Select(b => b.name));
        Assert.Equal(["0", "1", "2", "3"], model.named_children().Select(c => c.name));
        using var state = model.state_dict();
        Assert.Equal(
            ["0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked", "3.weight", "3.bias"],
            state.Keys);
        Assert.Equal(["", "0", "1", "2", "3"], model.named_modules().Select(m => m.name));
    }

    [Fact]
    public void Lstm_parameters_have_pytorchs_names_and_shapes()
    {
        using var lstm = torch.nn.LSTM(4, 8, num_layers: 2);
        var shapes = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"], shapes.Keys);
        Assert.Equal([32L, 4L], shapes["weight_ih_l0"]);
        Assert.Equal([32L, 8L], shapes["weight_hh_l0"]);
        Assert.Equal([32L, 8L], shapes["weight_ih_l1"]);
        Assert.Equal([32L], shapes["bias_hh_l1"]);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"], lstm.transformable_weights().Select(w => w.name));
    }

    [Fact]
    public void Nested_modules_get_prefixed_names_and_shared_parameters_count_once()
    {
        using var model = new TwoBlockModel();
        Assert.Equal(["shared.weight", "shared.bias", "head.0.weight"], model.named_parameters().Select(p => p.name));
        Assert.Equal(4 * 4 + 4 + 4 * 4, model.num_parameters());
        model.tie();
        // The tied head now reuses the shared layer's weight: counted once, saved under both names.
        Assert.Equal(4 * 4 + 4, model.num_parameters());
        Assert.Equal(["shared.weight", "shared.bias"], model.named_parameters().Select(p => p.name));
        using var state = model.state_dict();
        Assert.Contains("head.0.weight", state.Keys);
    }

    [Fact]
    public void Train_and_eval_reach_every_descendant()
    {
        using var model = new TwoBlockModel();
        Assert.True(model.modules().All(m => m.training));
        model.eval();
        Assert.True(model.modules().All(m => !m.training));
        model.train();
        Assert.True(model.modules().All(m => m.training));
    }

    [Fact]
    public void Registration_rejects_bad_names_and_non_leaf_parameters()
    {
        using var model = new TwoBlockModel();
        Assert.Throws<ArgumentException>(() => model.register_parameter("a.b", null));
        var clash = Assert.Throws<ArgumentException>(() => model.register_parameter("shared", null));
        Assert.Contains("'shared'", clash.Message);
        using var leaf = torch.ones([2], requires_grad: true);
        using var derived = leaf.mul(2.0);
        var nonLeaf = Assert.Throws<ArgumentException>(() => model.register_parameter("scale", derived));
        Assert.Contains("leaf", nonLeaf.Message);
        Assert.Throws<KeyError>(() => model.get_parameter("missing"));
    }

    [Fact]
    public void A_module_built_inside_a_dispose_scope_outlives_it_and_frees_its_tensors_on_dispose()
    {
        Linear linear;
        using (torch.NewDisposeScope())
        {
            linear = torch.nn.Linear(3, 2);
        }
        var weight = linear.weight;
        var bias = linear.bias!;
        Assert.False(weight.IsInvalid);
        Assert.Equal([2L, 3L], weight.shape);
        linear.Dispose();
        Assert.True(weight.IsInvalid);
        Assert.True(bias.IsInvalid);
    }

    [Fact]
    public void Replacing_a_weight_checks_its_shape_and_frees_the_old_one()
    {
        using var scope = torch.NewDisposeScope();
        using var linear = torch.nn.Linear(3, 2);
        var old = linear.weight;
        Assert.Throws<ArgumentException>(() => linear.weight = torch.zeros([3, 2], requires_grad: true));
        var replacement = torch.zeros([2, 3], requires_grad: true);
        linear.weight = replacement;
        Assert.Same(replacement, linear.weight);
        Assert.True(old.IsInvalid);
    }

    [Fact]
    public void Zero_grad_clears_every_parameters_gradient()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1));
        model.call(torch.randn(5, 3)).sum().backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
        model.zero_grad();
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    private sealed class TwoBlockModel : Module<Tensor, Tensor>
    {
        private readonly Linear shared;
        private readonly Sequential head;

        public TwoBlockModel() : base(nameof(TwoBlockModel))
        {
            shared = register_module("shared", torch.nn.Linear(4, 4));
            head = register_module("head", torch.nn.Sequential(torch.nn.Linear(4, 4, hasBias: false)));
        }

        public void tie() => ((Linear)head[0]).weight = shared.weight;

        public override Tensor forward(Tensor input) => head.call(shared.call(input));
    }
}
