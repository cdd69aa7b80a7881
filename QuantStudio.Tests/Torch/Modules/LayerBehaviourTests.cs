using QuantStudio.Torch;
using QuantStudio.Torch.Modules;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

public class LayerBehaviourTests
{
    [Fact]
    public void Default_initialization_follows_pytorchs_bounds()
    {
        using var scope = torch.NewDisposeScope();
        // kaiming_uniform(a=√5) gives U(±1/√fan_in); the bias is U(±1/√fan_in) too.
        AssertUniform(torch.nn.Linear(400, 50).weight, 1 / Math.Sqrt(400));
        AssertUniform(torch.nn.Linear(400, 2000).bias!, 1 / Math.Sqrt(400));
        AssertUniform(torch.nn.Conv2d(16, 64, 3).weight, 1 / Math.Sqrt(16 * 3 * 3));
        AssertUniform(torch.nn.LSTM(4, 100).get_parameter("weight_hh_l0")!, 1 / Math.Sqrt(100));

        var embedding = torch.nn.Embedding(100, 50, padding_idx: 3).weight.data<float>();
        var mean = embedding.Average(v => (double)v);
        var variance = embedding.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(variance, 0.85, 1.15);
        Assert.All(embedding.Skip(3 * 50).Take(50), v => Assert.Equal(0f, v));
    }

    private static void AssertUniform(Tensor t, double bound)
    {
        var values = t.data<float>().Select(v => (double)v).ToArray();
        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        // U(−b, b) has variance b²/3; thousands of samples pin it within a few percent.
        var variance = values.Average(v => v * v);
        Assert.InRange(variance, 0.9 * bound * bound / 3, 1.1 * bound * bound / 3);
        Assert.True(values.Max() > 0.95 * bound && values.Min() < -0.95 * bound, "values should fill the whole interval");
    }

    [Fact]
    public void Batchnorm1d_running_statistics_match_a_hand_computation()
    {
        using var scope = torch.NewDisposeScope();
        using var bn = torch.nn.BatchNorm1d(2, momentum: 0.1);
        // Channel 0: 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3). Channel 1: 0, 0, 4, 4 (mean 2, biased 4, unbiased 16/3).
        var x = torch.tensor(new float[] { 1, 0, 2, 0, 3, 4, 6, 4 }, [4, 2]);
        var y = bn.call(x).data<float>();

        Assert.Equal([0.1 * 3, 0.1 * 2], bn.running_mean!.data<float>().Select(v => (double)v), new Tolerance(1e-6));
        Assert.Equal([0.9 + 0.1 * 14 / 3.0, 0.9 + 0.1 * 16 / 3.0], bn.running_var!.data<float>().Select(v => (double)v), new Tolerance(1e-6));
        Assert.Equal(1L, bn.num_batches_tracked!.item<long>());
        // Training output uses the batch's biased variance.
        Assert.Equal((1 - 3) / Math.Sqrt(3.5 + 1e-5), y[0], 1e-5);
        Assert.Equal((4 - 2) / Math.Sqrt(4 + 1e-5), y[5], 1e-5);

        // Eval normalizes with the running statistics and leaves them alone.
        bn.eval();
        var z = bn.call(x).data<float>();
        Assert.Equal((1 - 0.3) / Math.Sqrt(0.9 + 0.1 * 14 / 3.0 + 1e-5), z[0], 1e-5);
        Assert.Equal(1L, bn.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void Batchnorm_without_momentum_keeps_a_cumulative_average()
    {
        using var scope = torch.NewDisposeScope();
        using var bn = torch.nn.BatchNorm1d(1, momentum: null);
        bn.call(torch.tensor(new float[] { 1, 3 }, [2, 1]));
        bn.call(torch.tensor(new float[] { 5, 9 }, [2, 1]));
        // Means 2 and 7 average to 4.5; unbiased variances 2 and 8 average to 5.
        Assert.Equal(4.5f, bn.running_mean!.item<float>(), 5);
        Assert.Equal(5f, bn.running_var!.item<float>(), 5);
        Assert.Equal(2L, bn.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void Batchnorm2d_normalizes_each_channel_over_batch_and_space()
    {
        using var scope = torch.NewDisposeScope();
        using var bn = torch.nn.BatchNorm2d(2);
        // [N=2, C=2, H=1, W=2]: channel 0 holds 0, 2, 4, 6 (mean 3, unbiased var 20/3); channel 1 holds 1, 1, 1, 1.
        var x = torch.tensor(new float[] { 0, 2, 1, 1, 4, 6, 1, 1 }, [2, 2, 1, 2]);
        bn.call(x);
        Assert.Equal([0.3f, 0.1f], bn.running_mean!.data<float>(), new Tolerance(1e-6));
        Assert.Equal([(float)(0.9 + 0.1 * 20 / 3.0), 0.9f], bn.running_var!.data<float>(), new Tolerance(1e-6));
        var wrongRank = Assert.Throws<ArgumentException>(() => bn.call(torch.ones(2, 2)));
        Assert.Contains("BatchNorm2d", wrongRank.Message);
        var wrongChannels = Assert.Throws<ArgumentException>(() => bn.call(torch.ones(2, 3, 1, 1)));
        Assert.Contains("2 channels", wrongChannels.Message);
    }

    [Fact]
    public void Dropout_is_active_only_in_training()
    {
        using var scope = torch.NewDisposeScope();
        var dropout = torch.nn.Dropout(0.5);
        var x = torch.ones(1000);
        var trained = dropout.call(x).data<float>();
        Assert.All(trained, v => Assert.True(v == 0f || v == 2f));
        Assert.InRange(trained.Count(v => v == 0f), 400, 600);
        dropout.eval();
        Assert.All(dropout.call(x).data<float>(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Activation_pooling_and_flatten_layers_compute_their_functions()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { -1, 2, 7, 3 }, [1, 1, 2, 2]);
        Assert.Equal([0f, 2f, 7f, 3f], torch.nn.ReLU().call(x).data<float>());
        Assert.Equal([0f, 2f, 6f, 3f], torch.nn.ReLU6().call(x).data<float>());
        Assert.Equal([7f], torch.nn.MaxPool2d(2).call(x).data<float>());
        Assert.Equal([11f / 4], torch.nn.AvgPool2d(2).call(x).data<float>());
        Assert.Equal([11f / 4], torch.nn.AdaptiveAvgPool2d(1).call(x).data<float>());
        Assert.Equal([1L, 4L], torch.nn.Flatten().call(x).shape);
        Assert.Equal([1L, 1L, 1L, 2L], torch.nn.AdaptiveAvgPool2d((1, 2)).call(x).shape);
    }

    [Fact]
    public void Linear_and_conv_compute_with_their_weight_and_bias()
    {
        using var scope = torch.NewDisposeScope();
        var linear = torch.nn.Linear(2, 1);
        using (torch.no_grad())
        {
            linear.weight.copy_(torch.tensor(new float[] { 2, -1 }, [1, 2]));
            linear.bias!.fill_(0.5);
        }
        Assert.Equal([2 * 3 - 1 * 4 + 0.5f], linear.call(torch.tensor(new float[] { 3, 4 }, [1, 2])).data<float>());

        var conv = torch.nn.Conv2d(1, 1, 3, padding: 1, hasBias: false);
        torch.nn.init.ones_(conv.weight);
        var y = conv.call(torch.ones(1, 1, 4, 4));
        // A corner sees a 2x2 window of ones, an edge 2x3, the interior 3x3.
        Assert.Equal([4f, 6f, 6f, 4f], y.select(2, 0).flatten().data<float>());
        Assert.Equal(9f, y.select(2, 1).select(2, 1).item<float>());
        Assert.Throws<TorchException>(() => linear.call(torch.ones(1, 3)));
        Assert.Throws<ArgumentException>(() => torch.nn.Conv2d(3, 4, 3, groups: 2));
    }

    [Fact]
    public void Embedding_looks_up_rows_of_its_weight()
    {
        using var scope = torch.NewDisposeScope();
        var embedding = torch.nn.Embedding(5, 3, padding_idx: -1);
        Assert.Equal(4L, embedding.padding_idx);
        var rows = embedding.call(torch.tensor(new long[] { 2, 4 }));
        var weight = embedding.weight.data<float>();
        Assert.Equal(weight.Skip(6).Take(3).Concat(new float[3]), rows.data<float>());
    }

    [Fact]
    public void Lstm_single_step_matches_the_gate_equations()
    {
        using var scope = torch.NewDisposeScope();
        var lstm = torch.nn.LSTM(3, 2, batch_first: true, dtype: ScalarType.Float64);
        var x = torch.randn([4, 1, 3], ScalarType.Float64);
        var (output, h_n, c_n) = lstm.call(x);
        Assert.Equal([4L, 1L, 2L], output.shape);
        Assert.Equal([1L, 4L, 2L], h_n.shape);

        // From zero state: gates = x W_ihᵀ + b_ih + b_hh, split (i, f, g, o); c = σ(i)·tanh(g); h = σ(o)·tanh(c).
        var gates = F.linear(x.select(1, 0), lstm.get_parameter("weight_ih_l0")!, lstm.get_parameter("bias_ih_l0")!)
            .add(lstm.get_parameter("bias_hh_l0")!);
        var i = gates.narrow(1, 0, 2).sigmoid();
        var g = gates.narrow(1, 4, 2).tanh();
        var o = gates.narrow(1, 6, 2).sigmoid();
        var c = i.mul(g);
        var h = o.mul(c.tanh());
        Assert.Equal(h.data<double>(), output.select(1, 0).data<double>(), new Tolerance(1e-12));
        Assert.Equal(c.data<double>(), c_n.select(0, 0).data<double>(), new Tolerance(1e-12));
        Assert.Throws<ArgumentException>(() => lstm.call(torch.randn([4, 1, 5], ScalarType.Float64)));
    }

    [Fact]
    public void Forward_hooks_can_observe_and_replace_outputs_until_removed()
    {
        using var scope = torch.NewDisposeScope();
        var relu = torch.nn.ReLU();
        var model = torch.nn.Sequential(torch.nn.Flatten(), relu);
        Tensor? seen = null;
        using (relu.register_forward_hook((_, input, output) =>
               {
                   seen = input;
                   return output.mul(10.0);
               }))
        {
            Assert.Equal([0f, 20f], model.call(torch.tensor(new float[] { -1, 2 }, [1, 2])).data<float>());
            Assert.NotNull(seen);
        }
        Assert.Equal([0f, 2f], model.call(torch.tensor(new float[] { -1, 2 }, [1, 2])).data<float>());

        using var pre = relu.register_forward_pre_hook((_, input) => input.neg());
        Assert.Equal([1f, 0f], model.call(torch.tensor(new float[] { -1, 2 }, [1, 2])).data<float>());
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>, IEqualityComparer<float>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= epsilon;
        public bool Equals(float a, float b) => Math.Abs(a - b) <= epsilon;
        public int GetHashCode(double value) => 0;
        public int GetHashCode(float value) => 0;
    }
}
