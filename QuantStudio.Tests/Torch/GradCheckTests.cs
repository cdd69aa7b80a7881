using QuantStudio.Torch;
using F = QuantStudio.Torch.torch.nn.functional;
using static QuantStudio.Tests.Torch.GradCheck;

namespace QuantStudio.Tests.Torch;

/// <summary>Autograd against central finite differences (float64) for every differentiable op of the binding.</summary>
public class GradCheckTests
{
    [Fact]
    public void The_check_itself_catches_a_wrong_gradient()
    {
        using var scope = torch.NewDisposeScope();
        // x·detach(x) has value x² but autograd sees only one factor: gradient x instead of 2x.
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Verify(x => x[0].mul(x[0].detach()), Input(0, 3)));
        Assert.Contains("3 gradient mismatches", ex.Message);
        // An input the function ignores has a zero gradient on both sides.
        Verify(x => x[0].exp(), Input(0, 3), Input(1, 2));
    }

    // ---- arithmetic with broadcasting -------------------------------------------------------

    [Fact]
    public void Add_sub_with_broadcast_shapes_and_alpha()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(1, 3, 1, 4);
        var b = Input(2, 2, 4);
        Verify(x => x[0].add(x[1]), a, b);
        Verify(x => x[0].sub(x[1]), a, b);
        Verify(x => x[0].add(x[1], alpha: -2.5), a, b);
        Verify(x => x[0].sub(x[1], alpha: 0.5), a, b);
        Verify(x => x[0] + 3.0 - x[0] * 2.0, a);
        Verify(x => 1.0 - x[0], a);
    }

    [Fact]
    public void Mul_div_with_broadcast_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(3, 2, 3, 1);
        var b = Input(4, 1, 5);
        Verify(x => x[0].mul(x[1]), a, b);
        Verify(x => x[0].div(x[1]), a, b);
        Verify(x => x[0] / 4.0, a);
        // A 0-d operand broadcasts against everything.
        Verify(x => x[0] * x[1], a, torch.tensor(1.7, ScalarType.Float64));
    }

    [Fact]
    public void Where_routes_gradient_by_the_condition_with_broadcasting()
    {
        using var scope = torch.NewDisposeScope();
        var cond = torch.tensor(new[] { true, false, false, true, true, false, true, false, false, true, false, true }, [3, 4]);
        Verify(x => torch.where(cond, x[0], x[1]), Input(5, 3, 4), Input(6, 4));
    }

    [Fact]
    public void Clamp_with_scalar_and_tensor_bounds()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(7, 4, 5);
        Verify(x => x[0].clamp(-0.5, 0.5), a);
        Verify(x => x[0].clamp_min(0.3), a);
        Verify(x => x[0].clamp_max(-0.3), a);
        var lo = torch.full([5], -0.45, ScalarType.Float64);
        var hi = torch.full([5], 0.55, ScalarType.Float64);
        Verify(x => x[0].clamp(lo, hi), a);
    }

    [Fact]
    public void Abs_exp_log_sqrt_pow()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(8, 3, 4);
        var p = PositiveInput(9, 3, 4);
        Verify(x => x[0].abs(), a);
        Verify(x => x[0].exp(), a);
        Verify(x => x[0].log(), p);
        Verify(x => x[0].sqrt(), p);
        Verify(x => x[0].pow(3.0), a);
        Verify(x => x[0].pow(-1.5), p);
        // Tensor exponent: gradient flows to base and exponent, with broadcasting.
        Verify(x => x[0].pow(x[1]), p, Input(10, 4));
    }

    [Fact]
    public void Sign_has_zero_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(11, 3, 4);
        Verify(x => x[0].sign(), a);
        var leaf = a.clone().requires_grad_();
        leaf.sign().mul(5.0).sum().backward();
        Assert.All(leaf.grad!.data<double>(), g => Assert.Equal(0.0, g));
    }

    // ---- reductions ---------------------------------------------------------------------------

    [Fact]
    public void Sum_and_mean_over_all_and_over_dims_with_keepdim()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(12, 2, 3, 4);
        Verify(x => x[0].sum(), a);
        Verify(x => x[0].mean(), a);
        Verify(x => x[0].sum(1), a);
        Verify(x => x[0].sum(-1, keepdim: true), a);
        Verify(x => x[0].sum([0, 2], keepdim: false), a);
        Verify(x => x[0].mean(0, keepdim: true), a);
        Verify(x => x[0].mean([1, 2]), a);
    }

    [Fact]
    public void Max_and_min_over_all_and_over_dims_with_keepdim()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(13, 2, 3, 4);
        Verify(x => x[0].max(), a);
        Verify(x => x[0].min(), a);
        Verify(x => x[0].max(1).values, a);
        Verify(x => x[0].max(2, keepdim: true).values, a);
        Verify(x => x[0].min(0).values, a);
        Verify(x => x[0].min(-1, keepdim: true).values, a);
    }

    [Fact]
    public void Matmul_matrix_batched_and_vector()
    {
        using var scope = torch.NewDisposeScope();
        Verify(x => x[0].matmul(x[1]), Input(14, 3, 4), Input(15, 4, 5));
        // Batched with a broadcast right-hand matrix.
        Verify(x => x[0].matmul(x[1]), Input(16, 2, 3, 4), Input(17, 4, 2));
        Verify(x => x[0].matmul(x[1]), Input(18, 3, 4), Input(19, 4));
        Verify(x => torch.matmul(x[0], x[1]), Input(20, 4), Input(21, 4));
    }

    // ---- shape ops ----------------------------------------------------------------------------

    [Fact]
    public void Reshape_view_flatten_permute_transpose_contiguous()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(22, 2, 3, 4);
        // Each view is followed by an element-dependent op so a mis-mapped gradient shows.
        var w = Input(23, 6, 4);
        Verify(x => x[0].reshape(6, 4).mul(w), a);
        Verify(x => x[0].view(6, 4).mul(w), a);
        Verify(x => x[0].view(-1, 4).mul(w), a);
        Verify(x => x[0].flatten(0, 1).mul(w), a);
        Verify(x => x[0].flatten().pow(2.0), a);
        Verify(x => x[0].permute(2, 0, 1).contiguous().view(4, 6).matmul(w), a);
        Verify(x => x[0].transpose(1, 2).contiguous().view(6, 4).mul(w), a);
        Verify(x => x[0].transpose(0, 1).pow(3.0), a);
    }

    [Fact]
    public void Cat_and_stack()
    {
        using var scope = torch.NewDisposeScope();
        Verify(x => torch.cat([x[0], x[1]], 1).pow(2.0), Input(24, 2, 3), Input(25, 2, 5));
        Verify(x => torch.cat([x[0], x[1], x[0]], 0).pow(2.0), Input(26, 2, 3), Input(27, 1, 3));
        Verify(x => torch.stack([x[0], x[1]], 1).pow(2.0), Input(28, 2, 3), Input(29, 2, 3));
    }

    [Fact]
    public void Narrow_slice_select_index_select_gather()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(30, 4, 6);
        Verify(x => x[0].narrow(1, 2, 3).pow(2.0), a);
        Verify(x => x[0].slice(1, 1, 6, 2).pow(2.0), a);
        Verify(x => x[0].select(0, 2).pow(2.0), a);
        // Repeated indices accumulate their gradients.
        var idx = torch.tensor(new long[] { 3, 0, 3, 1 });
        Verify(x => x[0].index_select(0, idx).pow(2.0), a);
        Verify(x => x[0].index_select(1, idx).pow(2.0), a);
        var gidx = torch.tensor(new long[] { 0, 5, 5, 2, 1, 1, 3, 4 }, [4, 2]);
        Verify(x => x[0].gather(1, gidx).pow(2.0), a);
    }

    [Fact]
    public void Sort_and_topk_values()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(31, 3, 5);
        var w = Input(32, 3, 5);
        var w3 = Input(33, 3, 3);
        Verify(x => x[0].sort(1).values.mul(w), a);
        Verify(x => x[0].sort(0, descending: true).values.mul(w), a);
        Verify(x => x[0].topk(3).values.mul(w3), a);
        Verify(x => x[0].topk(3, dim: 1, largest: false).values.mul(w3), a);
    }

    // ---- neural-network functions -------------------------------------------------------------

    [Fact]
    public void Conv2d_with_stride_padding_groups_and_bias()
    {
        using var scope = torch.NewDisposeScope();
        var input = Input(34, 2, 4, 5, 5);
        var weight = Input(35, 6, 2, 3, 3);
        var bias = Input(36, 6);
        Verify(x => F.conv2d(x[0], x[1], x[2], stride: 2, padding: 1, groups: 2), input, weight, bias);
        Verify(x => F.conv2d(x[0], x[1], null, stride: 1, padding: 0), Input(37, 1, 3, 4, 4), Input(38, 2, 3, 2, 2));
        // Asymmetric stride and padding; dilation.
        Verify(x => F.conv2d(x[0], x[1], x[2], (1, 2), (2, 0), (2, 1)), Input(39, 1, 2, 5, 6), Input(40, 3, 2, 2, 3), Input(41, 3));
    }

    [Fact]
    public void Linear_with_and_without_bias()
    {
        using var scope = torch.NewDisposeScope();
        Verify(x => F.linear(x[0], x[1], x[2]), Input(42, 4, 3), Input(43, 5, 3), Input(44, 5));
        Verify(x => F.linear(x[0], x[1]), Input(45, 2, 4, 3), Input(46, 5, 3));
    }

    [Fact]
    public void Batch_norm_in_training_mode_uses_batch_statistics()
    {
        using var scope = torch.NewDisposeScope();
        var runningMean = torch.zeros([3], ScalarType.Float64);
        var runningVar = torch.ones([3], ScalarType.Float64);
        Verify(x => F.batch_norm(x[0], runningMean, runningVar, x[1], x[2], training: true),
            Input(47, 4, 3, 2, 2), Input(48, 3), Input(49, 3));
        // Without affine parameters and on a 2-d input (BatchNorm1d).
        Verify(x => F.batch_norm(x[0], null, null, training: true), Input(50, 5, 3));
    }

    [Fact]
    public void Batch_norm_training_updates_running_stats_as_documented()
    {
        using var scope = torch.NewDisposeScope();
        var x = Input(51, 4, 2, 3, 3);
        var runningMean = torch.zeros([2], ScalarType.Float64);
        var runningVar = torch.ones([2], ScalarType.Float64);
        F.batch_norm(x, runningMean, runningVar, training: true, momentum: 0.1);
        var v = x.data<double>();
        for (var c = 0; c < 2; c++)
        {
            var values = new List<double>();
            for (var n = 0; n < 4; n++)
                for (var i = 0; i < 9; i++)
                    values.Add(v[n * 18 + c * 9 + i]);
            var mean = values.Average();
            // Running variance uses the unbiased estimate.
            var unbiased = values.Sum(u => (u - mean) * (u - mean)) / (values.Count - 1);
            Assert.Equal(0.1 * mean, runningMean.data<double>()[c], 12);
            Assert.Equal(0.9 + 0.1 * unbiased, runningVar.data<double>()[c], 12);
        }
    }

    [Fact]
    public void Batch_norm_in_eval_mode_uses_running_statistics()
    {
        using var scope = torch.NewDisposeScope();
        var runningMean = Input(52, 3);
        var runningVar = PositiveInput(53, 3);
        Verify(x => F.batch_norm(x[0], runningMean, runningVar, x[1], x[2], training: false),
            Input(54, 4, 3, 2, 2), Input(55, 3), Input(56, 3));
    }

    [Fact]
    public void Relu_and_relu6()
    {
        using var scope = torch.NewDisposeScope();
        Verify(x => F.relu(x[0]), Input(57, 4, 5));
        // Scaled so that some inputs lie above 6 and some below 0.
        var wide = Input(58, 4, 5).mul(9.0);
        Verify(x => F.relu6(x[0]), wide);
    }

    [Fact]
    public void Max_pool2d_plain_and_overlapping_with_padding()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(59, 2, 2, 6, 6);
        Verify(x => F.max_pool2d(x[0], 2), a);
        Verify(x => F.max_pool2d(x[0], 3, stride: 2, padding: 1), a);
    }

    [Fact]
    public void Avg_pool2d_and_adaptive_avg_pool2d()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(60, 2, 2, 5, 5);
        Verify(x => F.avg_pool2d(x[0], 2), a);
        Verify(x => F.avg_pool2d(x[0], 3, stride: 2, padding: 1), a);
        Verify(x => F.avg_pool2d(x[0], 3, stride: 2, padding: 1, count_include_pad: false), a);
        // Non-divisible output sizes give overlapping, uneven windows.
        Verify(x => F.adaptive_avg_pool2d(x[0], 2, 3), a);
        Verify(x => F.adaptive_avg_pool2d(x[0], 1), a);
    }

    [Fact]
    public void Dropout_with_p_zero_is_identity_and_in_eval_is_identity()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(61, 4, 5);
        Verify(x => F.dropout(x[0], 0.0, training: true), a);
        Verify(x => F.dropout(x[0], 0.5, training: false), a);
    }

    [Fact]
    public void Dropout_gradient_uses_the_same_mask_as_the_forward_pass()
    {
        using var scope = torch.NewDisposeScope();
        const double p = 0.4;
        var x = Input(62, 50, 40).requires_grad_();
        var y = F.dropout(x, p, training: true);
        var upstream = Input(63, 50, 40);
        y.backward(upstream);
        var xs = x.data<double>();
        var ys = y.data<double>();
        var us = upstream.data<double>();
        var gs = x.grad!.data<double>();
        var kept = 0;
        for (var i = 0; i < xs.Length; i++)
        {
            // Inputs are never zero, so a zero output means the element was dropped.
            if (ys[i] == 0)
            {
                Assert.Equal(0.0, gs[i]);
            }
            else
            {
                kept++;
                Assert.Equal(xs[i] / (1 - p), ys[i], 12);
                Assert.Equal(us[i] / (1 - p), gs[i], 12);
            }
        }
        // About 60% kept out of 2000: a loose bound that still catches a wrong p.
        Assert.InRange(kept, 1000, 1400);
    }

    [Fact]
    public void Softmax_and_log_softmax_over_either_dim()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(64, 3, 5).mul(3.0);
        Verify(x => F.softmax(x[0], 1), a);
        Verify(x => F.softmax(x[0], 0), a);
        Verify(x => F.log_softmax(x[0], -1), a);
        Verify(x => F.log_softmax(x[0], 0), a);
    }

    [Fact]
    public void Cross_entropy_with_reductions_class_weights_and_label_smoothing()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Input(65, 5, 4).mul(2.0);
        var target = torch.tensor(new long[] { 0, 3, 1, 3, 2 });
        var weight = PositiveInput(66, 4);
        Verify(x => F.cross_entropy(x[0], target), logits);
        Verify(x => F.cross_entropy(x[0], target, reduction: Reduction.Sum), logits);
        Verify(x => F.cross_entropy(x[0], target, reduction: Reduction.None), logits);
        Verify(x => F.cross_entropy(x[0], target, weight), logits);
        Verify(x => F.cross_entropy(x[0], target, label_smoothing: 0.1), logits);
        // Spatial targets, as a segmentation loss would use.
        var spatial = torch.tensor(new long[] { 0, 1, 2, 1, 0, 2, 2, 1 }, [2, 2, 2]);
        Verify(x => F.cross_entropy(x[0], spatial), Input(67, 2, 3, 2, 2));
    }

    [Fact]
    public void Cross_entropy_matches_a_hand_computation()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new[] { 1.0, 2.0, 0.5, -1.0, 0.0, 3.0 }, [2, 3]);
        var target = torch.tensor(new long[] { 1, 2 });
        var l0 = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(0.5)) - 2.0;
        var l1 = Math.Log(Math.Exp(-1) + Math.Exp(0) + Math.Exp(3)) - 3.0;
        Assert.Equal((l0 + l1) / 2, F.cross_entropy(logits, target).item<double>(), 12);
    }

    [Fact]
    public void Nll_loss_with_reductions_and_weights()
    {
        using var scope = torch.NewDisposeScope();
        var target = torch.tensor(new long[] { 2, 0, 1, 2 });
        var a = Input(68, 4, 3);
        Verify(x => F.nll_loss(F.log_softmax(x[0], 1), target), a);
        Verify(x => F.nll_loss(x[0], target, reduction: Reduction.Sum), a);
        Verify(x => F.nll_loss(x[0], target, PositiveInput(69, 3)), a);
        Verify(x => F.nll_loss(x[0], target, reduction: Reduction.None), a);
    }

    [Fact]
    public void Kl_div_with_respect_to_input_and_target()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Input(70, 4, 5);
        var targetLogits = Input(71, 4, 5);
        Verify(x => F.kl_div(F.log_softmax(x[0], 1), F.softmax(x[1], 1), batchmean: true), logits, targetLogits);
        Verify(x => F.kl_div(F.log_softmax(x[0], 1), F.softmax(x[1], 1), Reduction.Sum), logits, targetLogits);
        Verify(x => F.kl_div(F.log_softmax(x[0], 1), F.log_softmax(x[1], 1), log_target: true), logits, targetLogits);
        Verify(x => F.kl_div(x[0], x[1], Reduction.None), Input(72, 3, 4), PositiveInput(73, 3, 4));
    }

    [Fact]
    public void Mse_loss_with_respect_to_both_arguments()
    {
        using var scope = torch.NewDisposeScope();
        var a = Input(74, 3, 4);
        var b = Input(75, 3, 4);
        Verify(x => F.mse_loss(x[0], x[1]), a, b);
        Verify(x => F.mse_loss(x[0], x[1], Reduction.Sum), a, b);
        Verify(x => F.mse_loss(x[0], x[1], Reduction.None), a, b);
    }

    [Fact]
    public void Embedding_gradient_with_respect_to_weight_accumulates_repeated_indices()
    {
        using var scope = torch.NewDisposeScope();
        var indices = torch.tensor(new long[] { 1, 4, 1, 0, 4, 4 }, [2, 3]);
        Verify(x => F.embedding(indices, x[0]), Input(76, 5, 3));
    }

    [Fact]
    public void Embedding_padding_index_gets_no_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var weight = Input(77, 4, 3).requires_grad_();
        var indices = torch.tensor(new long[] { 2, 0, 2, 3 });
        F.embedding(indices, weight, padding_idx: 2).sum().backward();
        var g = weight.grad!.data<double>();
        Assert.Equal(new[] { 1.0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1 }, g);
    }

    // ---- LSTM -----------------------------------------------------------------------------------

    private const int LstmLayers = 2, LstmHidden = 3, LstmInput = 4, LstmBatch = 2, LstmSeq = 3;

    private static Tensor[] LstmWeights(int seed)
    {
        var list = new List<Tensor>();
        for (var l = 0; l < LstmLayers; l++)
        {
            var inSize = l == 0 ? LstmInput : LstmHidden;
            list.Add(Input(seed + 4 * l, 4 * LstmHidden, inSize).mul(0.5));
            list.Add(Input(seed + 4 * l + 1, 4 * LstmHidden, LstmHidden).mul(0.5));
            list.Add(Input(seed + 4 * l + 2, 4 * LstmHidden).mul(0.5));
            list.Add(Input(seed + 4 * l + 3, 4 * LstmHidden).mul(0.5));
        }
        return [.. list];
    }

    [Fact]
    public void Lstm_multi_layer_batch_first_gradients_wrt_input_state_and_every_weight()
    {
        using var scope = torch.NewDisposeScope();
        var x = Input(80, LstmBatch, LstmSeq, LstmInput);
        var h0 = Input(81, LstmLayers, LstmBatch, LstmHidden);
        var c0 = Input(82, LstmLayers, LstmBatch, LstmHidden);
        Tensor[] inputs = [x, h0, c0, .. LstmWeights(90)];
        Verify(t =>
        {
            var (o, h, c) = F.lstm(t[0], t[3..], LstmLayers, t[1], t[2], batch_first: true);
            return torch.cat([o.flatten(), h.flatten(), c.flatten()]);
        }, inputs);
        // Zero initial state, no biases.
        var noBias = LstmWeights(110).Where((_, i) => i % 4 < 2).ToArray();
        Verify(t =>
        {
            var (o, h, c) = F.lstm(t[0], t[1..], LstmLayers, has_biases: false, batch_first: true);
            return torch.cat([o.flatten(), h.flatten(), c.flatten()]);
        }, [x, .. noBias]);
    }

    [Fact]
    public void Lstm_forward_matches_a_hand_written_cell_with_gate_order_i_f_g_o()
    {
        using var scope = torch.NewDisposeScope();
        var x = Input(120, LstmBatch, LstmSeq, LstmInput);
        var h0 = Input(121, LstmLayers, LstmBatch, LstmHidden);
        var c0 = Input(122, LstmLayers, LstmBatch, LstmHidden);
        var weights = LstmWeights(130);
        var (output, hN, cN) = F.lstm(x, weights, LstmLayers, h0, c0, batch_first: true);
        Assert.Equal([(long)LstmBatch, LstmSeq, LstmHidden], output.shape);
        Assert.Equal([(long)LstmLayers, LstmBatch, LstmHidden], hN.shape);

        var w = weights.Select(t => t.data<double>()).ToArray();
        var xs = x.data<double>();
        var hs = h0.data<double>();
        var cs = c0.data<double>();
        const int H = LstmHidden;
        var expectedOut = new double[LstmBatch * LstmSeq * H];
        var expectedH = new double[LstmLayers * LstmBatch * H];
        var expectedC = new double[LstmLayers * LstmBatch * H];
        for (var b = 0; b < LstmBatch; b++)
        {
            // Layer input sequence for batch element b: [seq][features].
            var seq = new double[LstmSeq][];
            for (var s = 0; s < LstmSeq; s++)
                seq[s] = xs.Skip((b * LstmSeq + s) * LstmInput).Take(LstmInput).ToArray();
            for (var l = 0; l < LstmLayers; l++)
            {
                double[] wih = w[4 * l], whh = w[4 * l + 1], bih = w[4 * l + 2], bhh = w[4 * l + 3];
                var inSize = seq[0].Length;
                var h = hs.Skip((l * LstmBatch + b) * H).Take(H).ToArray();
                var c = cs.Skip((l * LstmBatch + b) * H).Take(H).ToArray();
                var next = new double[LstmSeq][];
                for (var s = 0; s < LstmSeq; s++)
                {
                    var gates = new double[4 * H];
                    for (var r = 0; r < 4 * H; r++)
                    {
                        var acc = bih[r] + bhh[r];
                        for (var k = 0; k < inSize; k++)
                            acc += wih[r * inSize + k] * seq[s][k];
                        for (var k = 0; k < H; k++)
                            acc += whh[r * H + k] * h[k];
                        gates[r] = acc;
                    }
                    var hNew = new double[H];
                    for (var j = 0; j < H; j++)
                    {
                        var i = Sigmoid(gates[j]);
                        var f = Sigmoid(gates[H + j]);
                        var g = Math.Tanh(gates[2 * H + j]);
                        var o = Sigmoid(gates[3 * H + j]);
                        c[j] = f * c[j] + i * g;
                        hNew[j] = o * Math.Tanh(c[j]);
                    }
                    h = hNew;
                    next[s] = hNew;
                }
                seq = next;
                Array.Copy(h, 0, expectedH, (l * LstmBatch + b) * H, H);
                Array.Copy(c, 0, expectedC, (l * LstmBatch + b) * H, H);
            }
            for (var s = 0; s < LstmSeq; s++)
                Array.Copy(seq[s], 0, expectedOut, (b * LstmSeq + s) * H, H);
        }
        AssertClose(expectedOut, output.data<double>());
        AssertClose(expectedH, hN.data<double>());
        AssertClose(expectedC, cN.data<double>());
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 12);
    }

    // ---- straight-through estimator -----------------------------------------------------------

    [Fact]
    public void Straight_through_idiom_forwards_the_quantized_value_and_passes_the_gradient_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var x = Input(140, 4, 5).mul(3.0).requires_grad_();
        // q is piecewise constant: its own gradient is zero almost everywhere.
        var q = x.mul(2.0).round().div(2.0);
        var y = x + (q - x).detach();
        Assert.Equal(q.data<double>(), y.data<double>());
        var upstream = Input(141, 4, 5);
        y.backward(upstream);
        Assert.Equal(upstream.data<double>(), x.grad!.data<double>());
    }

    [Fact]
    public void Straight_through_gradient_is_identity_inside_a_larger_graph()
    {
        using var scope = torch.NewDisposeScope();
        var x = Input(142, 3, 4).requires_grad_();
        var y = (x + (x.sign() - x).detach()).pow(2.0).sum();
        y.backward();
        // d/dx (ste(x))² = 2 · sign(x) · 1.
        var expected = x.data<double>().Select(v => 2.0 * Math.Sign(v)).ToArray();
        Assert.Equal(expected, x.grad!.data<double>());
    }
}
