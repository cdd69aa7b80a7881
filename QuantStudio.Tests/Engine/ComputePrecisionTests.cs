using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

/// <summary>bf16 compute with fp32 master weights: the layers compute in bf16, the weights and their gradients stay fp32.</summary>
public class ComputePrecisionTests
{
    [Fact]
    public void Inside_a_bf16_scope_layers_compute_in_bf16_and_return_fp32_close_to_the_fp32_result()
    {
        torch.manual_seed(9);
        using var layer = Layer.Linear(64, 16);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(8, 64);
        var fp32 = layer.call(x);
        Tensor bf16;
        using (ComputePrecision.Bf16())
        {
            Assert.True(ComputePrecision.IsBf16);
            bf16 = layer.call(x);
        }
        Assert.False(ComputePrecision.IsBf16);
        Assert.Equal(ScalarType.Float32, bf16.dtype);
        // bf16 keeps 8 significant bits: the results differ, by about 2^-8 relative.
        Assert.False(fp32.eq(bf16).all().item<bool>());
        var relative = bf16.sub(fp32).abs().max().item<float>() / fp32.abs().max().item<float>();
        Assert.True(relative < 0.03, $"relative difference {relative}");
    }

    [Fact]
    public void Master_weights_and_their_gradients_stay_fp32_and_close_to_the_fp32_gradients()
    {
        torch.manual_seed(10);
        using var linear = Layer.Linear(48, 8);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(16, 48);
        linear.call(x).pow(2).mean().backward();
        var fp32Grad = linear.weight.grad!.clone();
        linear.weight.grad = null!;
        using (ComputePrecision.Bf16())
            linear.call(x).pow(2).mean().backward();
        Assert.Equal(ScalarType.Float32, linear.weight.dtype);
        Assert.Equal(ScalarType.Float32, linear.weight.grad!.dtype);
        var relative = linear.weight.grad.sub(fp32Grad).abs().max().item<float>() / fp32Grad.abs().max().item<float>();
        Assert.True(relative > 0 && relative < 0.05, $"relative gradient difference {relative}");
    }

    [Fact]
    public void Convolutions_stay_fp32_inside_a_bf16_scope()
    {
        torch.manual_seed(12);
        using var conv = Layer.Conv2d(3, 8, 3, padding: 1);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 8, 8);
        var fp32 = conv.call(x);
        Tensor inScope;
        using (ComputePrecision.Bf16())
            inScope = conv.call(x);
        Assert.Equal(ScalarType.Float32, inScope.dtype);
        Assert.True(fp32.eq(inScope).all().item<bool>());
    }

    [Fact]
    public void An_fp32_scope_overrides_an_outer_bf16_scope_and_scopes_restore_on_dispose()
    {
        using (ComputePrecision.Bf16())
        {
            using (ComputePrecision.Fp32())
                Assert.False(ComputePrecision.IsBf16);
            Assert.True(ComputePrecision.IsBf16);
            using (ComputePrecision.Bf16(enabled: false))
                Assert.True(ComputePrecision.IsBf16);
        }
        Assert.False(ComputePrecision.IsBf16);
        using (ComputePrecision.Bf16(enabled: false))
            Assert.False(ComputePrecision.IsBf16);
    }
}
