using System.Text.RegularExpressions;
using QuantStudio.Torch;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

/// <summary>channels_last memory format, bf16 CPU autocast with fp32 master weights, CPU feature detection.</summary>
public partial class SpeedSwitchTests
{
    private static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        return a.to_type(ScalarType.Float64).sub(b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    private static double MaxAbs(Tensor a)
    {
        using var scope = torch.NewDisposeScope();
        return a.to_type(ScalarType.Float64).abs().max().item<double>();
    }

    // ---- channels_last --------------------------------------------------------------------------

    [Fact]
    public void Channels_last_reorders_memory_to_nhwc_and_keeps_the_values()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 4, 5);
        Assert.True(x.is_contiguous());
        Assert.False(x.is_contiguous(MemoryFormat.ChannelsLast));
        Assert.Equal([60L, 20L, 5L, 1L], x.stride());

        var cl = x.to(MemoryFormat.ChannelsLast);
        Assert.True(cl.is_contiguous(MemoryFormat.ChannelsLast));
        Assert.False(cl.is_contiguous());
        // NHWC: the channel is the fastest-moving index.
        Assert.Equal([60L, 1L, 15L, 3L], cl.stride());
        Assert.Equal([2L, 3L, 4L, 5L], cl.shape);
        Assert.Equal(x.data<float>(), cl.data<float>());

        var back = cl.contiguous();
        Assert.True(back.is_contiguous());
        Assert.Equal([60L, 20L, 5L, 1L], back.stride());
    }

    [Fact]
    public void Channels_last_needs_a_4d_tensor()
    {
        using var x = torch.randn(3, 4, 5);
        var ex = Assert.Throws<TorchException>(() => x.to(MemoryFormat.ChannelsLast));
        Assert.Contains("rank 4", ex.Message);
    }

    [Fact]
    public void Conv2d_on_channels_last_tensors_gives_channels_last_output_and_the_same_values_and_gradients()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var x = torch.randn(4, 6, 9, 9);
        var w = torch.randn(8, 6, 3, 3);
        var b = torch.randn(8);

        var x1 = x.clone().requires_grad_();
        var w1 = w.clone().requires_grad_();
        var y1 = F.conv2d(x1, w1, b, padding: 1);
        y1.sum().backward();

        var x2 = x.to(MemoryFormat.ChannelsLast).requires_grad_();
        var w2 = w.to(MemoryFormat.ChannelsLast).requires_grad_();
        var y2 = F.conv2d(x2, w2, b, padding: 1);
        Assert.True(y2.is_contiguous(MemoryFormat.ChannelsLast));
        y2.sum().backward();

        Assert.True(MaxAbsDiff(y1, y2) < 1e-4 * MaxAbs(y1));
        Assert.True(MaxAbsDiff(x1.grad!, x2.grad!) < 1e-4 * MaxAbs(x1.grad!));
        Assert.True(MaxAbsDiff(w1.grad!, w2.grad!) < 1e-4 * MaxAbs(w1.grad!));
        // A channels_last parameter gets a channels_last gradient, so updates need no reordering.
        Assert.True(w2.grad!.is_contiguous(MemoryFormat.ChannelsLast));
    }

    [Fact]
    public void Batch_norm_relu_and_pooling_preserve_channels_last()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(4, 5, 8, 8).to(MemoryFormat.ChannelsLast);
        var y = F.max_pool2d(F.relu(F.batch_norm(x, torch.zeros(5), torch.ones(5), torch.ones(5), torch.zeros(5), training: true)), 2);
        Assert.True(y.is_contiguous(MemoryFormat.ChannelsLast));
        Assert.Equal([4L, 5L, 4L, 4L], y.shape);
    }

    // ---- bf16 autocast --------------------------------------------------------------------------

    [Fact]
    public void Autocast_runs_conv_linear_and_matmul_in_bf16_and_restores_fp32_afterwards()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 8, 8);
        var w = torch.randn(4, 3, 3, 3);
        var fcW = torch.randn(5, 16);
        using (torch.autocast())
        {
            Assert.Equal(ScalarType.BFloat16, F.conv2d(x, w, padding: 1).dtype);
            Assert.Equal(ScalarType.BFloat16, F.linear(torch.randn(2, 16), fcW).dtype);
            Assert.Equal(ScalarType.BFloat16, torch.randn(3, 4).matmul(torch.randn(4, 2)).dtype);
            using (torch.autocast(enabled: false))
                Assert.Equal(ScalarType.Float32, F.conv2d(x, w, padding: 1).dtype);
            // Leaving the inner scope re-enables the outer one.
            Assert.Equal(ScalarType.BFloat16, F.conv2d(x, w, padding: 1).dtype);
            // Element-wise ops are not cast: the inputs stay fp32.
            Assert.Equal(ScalarType.Float32, x.add(x).dtype);
        }
        Assert.Equal(ScalarType.Float32, F.conv2d(x, w, padding: 1).dtype);
        Assert.Equal(ScalarType.Float32, F.linear(torch.randn(2, 16), fcW).dtype);
    }

    [Fact]
    public void Autocast_keeps_fp32_master_weights_and_fp32_gradients_close_to_the_fp32_ones()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var x = torch.randn(8, 3, 8, 8);
        var target = torch.randint(0, 4, [8]);
        var convW = torch.randn(6, 3, 3, 3).mul(0.3).requires_grad_();
        var fcW = torch.randn(4, 6 * 4 * 4).mul(0.1).requires_grad_();
        var fcB = torch.zeros([4], requires_grad: true);
        Tensor[] parameters = [convW, fcW, fcB];

        Tensor Loss()
        {
            var h = F.max_pool2d(F.relu(F.conv2d(x, convW, padding: 1)), 2);
            var logits = F.linear(h.flatten(1), fcW, fcB);
            return F.cross_entropy(logits, target);
        }

        var reference = Loss();
        reference.backward();
        var fp32Grads = parameters.Select(p => p.grad!.clone()).ToArray();
        foreach (var p in parameters)
            p.zero_grad();

        Tensor loss;
        using (torch.autocast())
        {
            var h = F.conv2d(x, convW, padding: 1);
            Assert.Equal(ScalarType.BFloat16, h.dtype);
            loss = Loss();
        }
        loss.backward();
        Assert.True(Math.Abs(loss.item<double>() - reference.item<double>()) < 0.05 * Math.Abs(reference.item<double>()));
        for (var i = 0; i < parameters.Length; i++)
        {
            Assert.Equal(ScalarType.Float32, parameters[i].dtype);
            var g = parameters[i].grad!;
            Assert.Equal(ScalarType.Float32, g.dtype);
            Assert.Equal(parameters[i].shape, g.shape);
            // bf16 keeps 8 bits of mantissa: gradients agree to a few percent of their scale.
            Assert.True(MaxAbsDiff(g, fp32Grads[i]) < 0.05 * MaxAbs(fp32Grads[i]),
                $"parameter {i}: max |bf16 grad - fp32 grad| = {MaxAbsDiff(g, fp32Grads[i])}, scale {MaxAbs(fp32Grads[i])}");
        }
    }

    [Fact]
    public void Autocast_training_with_channels_last_updates_fp32_weights()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        var x = torch.randn(4, 3, 6, 6).to(MemoryFormat.ChannelsLast);
        var w = torch.randn(5, 3, 3, 3).to(MemoryFormat.ChannelsLast).requires_grad_();
        var before = w.detach().clone();
        Tensor loss;
        using (torch.autocast())
        {
            var y = F.conv2d(x, w, padding: 1);
            Assert.Equal(ScalarType.BFloat16, y.dtype);
            Assert.True(y.is_contiguous(MemoryFormat.ChannelsLast));
            loss = y.to_type(ScalarType.Float32).pow(2.0).mean();
        }
        loss.backward();
        using (torch.no_grad())
            w.add_(w.grad!, -0.01);
        Assert.Equal(ScalarType.Float32, w.dtype);
        Assert.True(MaxAbsDiff(w, before) > 0);
        Assert.True(w.is_contiguous(MemoryFormat.ChannelsLast));
    }

    // ---- CPU features ---------------------------------------------------------------------------

    [GeneratedRegex(@"^flags\s*:.*$", RegexOptions.Multiline)]
    private static partial Regex FlagsLine();

    [Fact]
    public void Cpu_feature_detection_agrees_with_proc_cpuinfo()
    {
        var cpuinfo = File.ReadAllText("/proc/cpuinfo");
        var flags = FlagsLine().Match(cpuinfo).Value;
        bool Has(string f) => Regex.IsMatch(flags, $@"(\s|:){Regex.Escape(f)}(\s|$)");
        Assert.NotEmpty(CpuFeatures.All);
        Assert.Equal(Has("avx512_bf16") || Has("amx_bf16"), CpuFeatures.HasNativeBf16);
        Assert.Equal(Has("avx2"), CpuFeatures.HasAvx2);
        Assert.Equal(Has("avx512f"), CpuFeatures.HasAvx512);
    }
}
