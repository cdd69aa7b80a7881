using QuantStudio.Core.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

public sealed class GradientClippingTests
{
    /// <summary>Two tensors whose gradients are (3, 4) and (12): the global norm is sqrt(9 + 16 + 144) = 13.</summary>
    private static (Tensor A, Tensor B) WithGradients()
    {
        var a = torch.zeros(2).requires_grad_();
        var b = torch.zeros(1).requires_grad_();
        a.mul(torch.tensor(new float[] { 3, 4 })).sum().add(b.mul(12).sum()).backward();
        return (a, b);
    }

    [Fact]
    public void Gradients_above_the_bound_are_scaled_to_it_and_the_norm_before_is_returned()
    {
        var (a, b) = WithGradients();
        using (a)
        using (b)
        {
            Assert.Equal(13, GradientClipping.ClipByGlobalNorm([a, b], 6.5), 5);
            // Halved: 6.5 / 13.
            Assert.Equal(new float[] { 1.5f, 2f }, a.grad!.data<float>().ToArray(), (x, y) => Math.Abs(x - y) < 1e-5);
            Assert.Equal(6f, b.grad!.data<float>()[0], 4);
        }
    }

    [Fact]
    public void Gradients_within_the_bound_and_tensors_without_one_are_left_alone()
    {
        var (a, b) = WithGradients();
        using var none = torch.zeros(3).requires_grad_();
        using (a)
        using (b)
        {
            Assert.Equal(13, GradientClipping.ClipByGlobalNorm([a, b, none], 20), 5);
            Assert.Equal(new float[] { 3f, 4f }, a.grad!.data<float>().ToArray());
            Assert.Null(none.grad);
            Assert.Equal(0, GradientClipping.ClipByGlobalNorm([none], 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm([a], 0));
        }
    }
}
