using QuantStudio.Torch;
using QuantStudio.Torch.Modules;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

public class ModuleStateTests
{
    private static Sequential SmallNet() =>
        torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(2 * 2 * 2, 3));

    [Fact]
    public void Load_state_dict_copies_values_in_place_and_reproduces_outputs()
    {
        using var scope = torch.NewDisposeScope();
        using var source = SmallNet();
        using var target = SmallNet();
        var x = torch.randn(3, 1, 4, 4);
        source.call(x); // moves the running statistics away from their initial values
        source.eval();
        target.eval();
        var targetWeight = ((Conv2d)target[0]).weight;

        using (var state = source.state_dict())
            Assert.Empty(target.load_state_dict(state).missing_keys);

        Assert.Same(targetWeight, ((Conv2d)target[0]).weight);
        Assert.Equal(source.call(x).data<float>(), target.call(x).data<float>());
        Assert.Equal(1L, ((BatchNorm2d)target[1]).num_batches_tracked!.item<long>());
    }

    [Fact]
    public void State_dict_values_are_views_and_clone_snapshots_them()
    {
        using var scope = torch.NewDisposeScope();
        using var linear = torch.nn.Linear(2, 2);
        using var view = linear.state_dict();
        using var snapshot = view.Clone();
        using (torch.no_grad())
            linear.weight.add_(1.0);
        Assert.Equal(linear.weight.data<float>(), view["weight"].data<float>());
        Assert.Equal(linear.weight.data<float>(), snapshot["weight"].add(1.0).data<float>());
        Assert.False(view["weight"].requires_grad);
        view.Dispose();
        Assert.False(linear.weight.IsInvalid);
    }

    [Fact]
    public void Strict_load_names_missing_and_unexpected_keys_and_loads_nothing()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2));
        var before = model.parameters().Select(p => p.data<float>()).ToList();
        using var state = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).state_dict();
        state.Remove("1.bias");
        state.Add("1.scale", torch.ones(2));

        var ex = Assert.Throws<StateDictMismatchException>(() => model.load_state_dict(state));
        Assert.Equal(["1.bias"], ex.MissingKeys);
        Assert.Equal(["1.scale"], ex.UnexpectedKeys);
        Assert.Contains("\"1.bias\"", ex.Message);
        Assert.Contains("\"1.scale\"", ex.Message);
        Assert.Equal(before, model.parameters().Select(p => p.data<float>()));

        // Non-strict loads what matches and reports the rest.
        var result = model.load_state_dict(state, strict: false);
        Assert.Equal(["1.bias"], result.missing_keys);
        Assert.Equal(["1.scale"], result.unexpected_keys);
        Assert.Equal(state["0.weight"].data<float>(), model.parameters().First().data<float>());
        Assert.Equal(before[3], model.named_parameters().Single(p => p.name == "1.bias").parameter.data<float>());
    }

    [Fact]
    public void A_shape_mismatch_fails_even_when_not_strict()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Linear(4, 3);
        using var state = torch.nn.Linear(4, 5).state_dict();
        var ex = Assert.Throws<StateDictMismatchException>(() => model.load_state_dict(state, strict: false));
        Assert.Equal(2, ex.ShapeMismatches.Count);
        Assert.Contains("weight: checkpoint [5, 4], model [3, 4]", ex.Message);
    }

    [Fact]
    public void State_dict_prefixes_combine_several_states_into_one_checkpoint()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Linear(2, 1);
        using var checkpoint = new StateDict();
        using (var state = model.state_dict())
            checkpoint.AddWithPrefix("model.", state);
        checkpoint.Add("other", torch.zeros(1));
        Assert.Equal(["model.weight", "model.bias", "other"], checkpoint.Keys);
        using var back = checkpoint.WithoutPrefix("model.");
        Assert.Equal(["weight", "bias"], back.Keys);
        model.load_state_dict(back);
    }

    [Fact]
    public void Channels_last_conversion_keeps_parameter_identity_and_results()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding: 1), torch.nn.BatchNorm2d(8), torch.nn.ReLU());
        var weight = ((Conv2d)model[0]).weight;
        using var optimizer = torch.optim.SGD(model.parameters(), lr: 0.1);
        var x = torch.randn(2, 3, 5, 5);
        var before = model.call(x).data<float>();

        model.to(MemoryFormat.ChannelsLast);
        Assert.Same(weight, ((Conv2d)model[0]).weight);
        Assert.True(weight.is_contiguous(MemoryFormat.ChannelsLast));
        Assert.False(weight.is_contiguous());
        var after = model.call(x.to(MemoryFormat.ChannelsLast)).data<float>();
        Assert.Equal(before.Length, after.Length);
        for (var i = 0; i < before.Length; i++)
            Assert.InRange(after[i], before[i] - 1e-4, before[i] + 1e-4);

        // The optimizer built before the conversion still updates the converted weight.
        var w0 = weight.data<float>();
        model.call(x).sum().backward();
        optimizer.step();
        Assert.NotEqual(w0, weight.data<float>());
        Assert.True(weight.is_contiguous(MemoryFormat.ChannelsLast));
    }

    [Fact]
    public void Dtype_conversion_converts_floating_tensors_only()
    {
        using var scope = torch.NewDisposeScope();
        using var model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)).to(ScalarType.Float64);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        var buffers = model.named_buffers().ToDictionary(b => b.name, b => b.buffer.dtype);
        Assert.Equal(ScalarType.Float64, buffers["1.running_mean"]);
        Assert.Equal(ScalarType.Int64, buffers["1.num_batches_tracked"]);
        Assert.Equal(ScalarType.Float64, model.call(torch.ones([3, 2], ScalarType.Float64)).dtype);
        Assert.Throws<ArgumentException>(() => model.to(ScalarType.Int32));
    }

    [Fact]
    public void Weight_transform_quantizes_the_forward_pass_while_gradients_reach_the_full_precision_weight()
    {
        using var scope = torch.NewDisposeScope();
        var linear = torch.nn.Linear(3, 2, hasBias: false, dtype: ScalarType.Float64);
        using (torch.no_grad())
            linear.weight.copy_(torch.tensor(new double[] { 0.30, -0.62, 0.11, 0.87, -0.24, 0.49 }, [2, 3]));
        var fullPrecision = linear.weight.data<double>();
        // Straight-through rounding to a 0.5 grid: forward sees round(2w)/2, backward sees the identity.
        linear.WeightTransform = w => w.add(w.mul(2.0).round().div(2.0).sub(w).detach());
        var x = torch.tensor(new double[] { 1, 2, 3, -1, 0, 2 }, [2, 3]);

        var y = linear.call(x);
        var quantized = torch.tensor(new double[] { 0.5, -0.5, 0, 1, 0, 0.5 }, [2, 3]);
        Assert.Equal(F.linear(x, quantized).data<double>(), y.data<double>());

        // d(sum y)/dW[o, i] = Σ_n x[n, i]: column sums of x for each output row.
        y.sum().backward();
        Assert.Equal([0.0, 2, 5, 0, 2, 5], linear.weight.grad!.data<double>());
        Assert.Equal(fullPrecision, linear.weight.data<double>());

        Assert.Single(((IWeightTransformable)linear).transformable_weights());
        linear.WeightTransform = null;
        Assert.Equal(F.linear(x, linear.weight).data<double>(), linear.call(x).data<double>());
    }

    [Fact]
    public void Lstm_weight_transform_applies_to_weight_matrices_only()
    {
        using var scope = torch.NewDisposeScope();
        var lstm = torch.nn.LSTM(2, 3, num_layers: 2, dtype: ScalarType.Float64);
        var transformed = new List<Tensor>();
        lstm.WeightTransform = w =>
        {
            transformed.Add(w);
            return w.mul(0.0);
        };
        var (output, _, _) = lstm.call(torch.randn([4, 1, 2], ScalarType.Float64));
        Assert.Equal(4, transformed.Count);
        Assert.Equal(lstm.transformable_weights().Select(w => w.weight), transformed);
        // With zeroed weight matrices only the biases act, so the input no longer matters.
        var (other, _, _) = lstm.call(torch.randn([4, 1, 2], ScalarType.Float64));
        Assert.Equal(output.data<double>(), other.data<double>());
    }
}
