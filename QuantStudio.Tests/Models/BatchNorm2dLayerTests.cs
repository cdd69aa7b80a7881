using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Models;

/// <summary>The zoo's batch norm against TorchSharp's own module.</summary>
public sealed class BatchNorm2dLayerTests
{
    private static void CopyParameters(nn.Module from, nn.Module to)
    {
        using var _ = torch.no_grad();
        var source = from.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in to.named_parameters())
            p.copy_(source[name]);
    }

    [Fact]
    public void Trains_and_evaluates_as_TorchSharps_BatchNorm2d_with_the_same_state_names()
    {
        torch.manual_seed(3);
        using var reference = torch.nn.BatchNorm2d(5);
        using var ours = Layer.BatchNorm2d(5);
        using (torch.no_grad())
        {
            reference.weight!.uniform_(0.5, 1.5);
            reference.bias!.uniform_(-0.5, 0.5);
        }
        CopyParameters(reference, ours);
        Assert.Equal(reference.state_dict().Keys.Order(), ours.state_dict().Keys.Order());

        for (var step = 0; step < 3; step++)
        {
            using var x = torch.randn(4, 5, 6, 7) * 3 + 1;
            using var a = x.clone().requires_grad_();
            using var b = x.clone().requires_grad_();
            using var ya = reference.call(a);
            using var yb = ours.call(b);
            Assert.True(ya.allclose(yb, rtol: 1e-6, atol: 1e-6), $"training output differs at step {step}");
            using var la = (ya * ya).sum();
            using var lb = (yb * yb).sum();
            la.backward();
            lb.backward();
            Assert.True(a.grad!.allclose(b.grad!, rtol: 1e-5, atol: 1e-5), "input gradients differ");
            Assert.True(reference.weight!.grad!.allclose(ours.weight!.grad!, rtol: 1e-5, atol: 1e-5), "weight gradients differ");
        }
        Assert.True(reference.running_mean!.allclose(ours.running_mean!), "running means differ");
        Assert.True(reference.running_var!.allclose(ours.running_var!), "running variances differ");
        Assert.Equal(3, reference.num_batches_tracked!.AsInt64());
        Assert.Equal(3, ours.num_batches_tracked!.AsInt64());

        reference.eval();
        ours.eval();
        using var test = torch.randn(2, 5, 6, 7);
        using var ea = reference.call(test);
        using var eb = ours.call(test);
        Assert.True(ea.allclose(eb, rtol: 1e-6, atol: 1e-6), "evaluation output differs");
        Assert.Equal(3, ours.num_batches_tracked!.AsInt64());
    }

    [Fact]
    public void Refuses_input_that_is_not_4D_with_a_message()
    {
        using var bn = Layer.BatchNorm2d(3);
        using var x = torch.zeros(2, 3);
        var e = Assert.Throws<ArgumentException>(() => bn.call(x));
        Assert.Contains("4D", e.Message);
    }
}
