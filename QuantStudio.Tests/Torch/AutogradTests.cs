using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

/// <summary>The autograd surface: requires_grad, no_grad scopes, detach, zero_grad and accumulation.</summary>
public class AutogradTests
{
    [Fact]
    public void Requires_grad_is_off_by_default_and_propagates_through_ops()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones(2, 2);
        Assert.False(a.requires_grad);
        Assert.True(a.is_leaf);
        var b = torch.ones([2, 2], requires_grad: true);
        Assert.True(b.requires_grad);
        var c = a.mul(b);
        Assert.True(c.requires_grad);
        Assert.False(c.is_leaf);
        Assert.False(a.add(a).requires_grad);
        a.requires_grad = true;
        Assert.True(a.requires_grad);
    }

    [Fact]
    public void Backward_through_a_graph_without_grad_raises_libtorchs_error()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones(3);
        var ex = Assert.Throws<TorchException>(() => a.sum().backward());
        Assert.Contains("does not require grad", ex.Message);
    }

    [Fact]
    public void No_grad_scope_stops_recording_and_restores_the_previous_mode()
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.ones([3], requires_grad: true);
        Assert.True(torch.is_grad_enabled());
        using (torch.no_grad())
        {
            Assert.False(torch.is_grad_enabled());
            var y = w.mul(2.0);
            Assert.False(y.requires_grad);
            using (torch.enable_grad())
            {
                Assert.True(torch.is_grad_enabled());
                Assert.True(w.mul(2.0).requires_grad);
            }
            Assert.False(torch.is_grad_enabled());
            // In-place updates of leaves are allowed here: this is how an optimizer steps.
            w.add_(torch.ones(3));
        }
        Assert.True(torch.is_grad_enabled());
        Assert.Equal(new[] { 2f, 2f, 2f }, w.data<float>());
        Assert.True(w.mul(2.0).requires_grad);
    }

    [Fact]
    public void Grad_mode_is_per_thread()
    {
        using var noGrad = torch.no_grad();
        var other = false;
        var thread = new Thread(() => other = torch.is_grad_enabled());
        thread.Start();
        thread.Join();
        Assert.True(other);
        Assert.False(torch.is_grad_enabled());
    }

    [Fact]
    public void Detach_shares_storage_but_cuts_the_graph()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 2.0, 3.0 }, requires_grad: true);
        var y = x.mul(3.0);
        var d = y.detach();
        Assert.False(d.requires_grad);
        Assert.True(d.is_leaf);
        // Same storage: an in-place change of the detached tensor shows in the original.
        d.add_(1.0);
        Assert.Equal(new[] { 4.0, 7.0, 10.0 }, y.data<double>());
        // Gradient flows through x·2 only, not through the detached product.
        var x2 = torch.tensor(new[] { 1.0, 2.0, 3.0 }, requires_grad: true);
        (x2.mul(2.0) + x2.mul(x2).detach()).sum().backward();
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, x2.grad!.data<double>());
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_zeroed()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, -2.0 }, requires_grad: true);
        Assert.Null(x.grad);
        var loss = x.pow(2.0).sum();
        loss.backward(retain_graph: true);
        Assert.Equal(new[] { 2.0, -4.0 }, x.grad!.data<double>());
        loss.backward();
        Assert.Equal(new[] { 4.0, -8.0 }, x.grad!.data<double>());
        x.mul(5.0).sum().backward();
        Assert.Equal(new[] { 9.0, -3.0 }, x.grad!.data<double>());

        x.zero_grad(set_to_none: false);
        var zeroed = x.grad;
        Assert.NotNull(zeroed);
        Assert.Equal(new[] { 0.0, 0.0 }, zeroed.data<double>());
        x.sum().backward();
        Assert.Equal(new[] { 1.0, 1.0 }, x.grad!.data<double>());

        x.zero_grad();
        Assert.Null(x.grad);
        x.sum().backward();
        Assert.Equal(new[] { 1.0, 1.0 }, x.grad!.data<double>());
    }

    [Fact]
    public void A_second_backward_through_a_freed_graph_raises()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 2.0 }, requires_grad: true);
        var loss = x.exp().sum();
        loss.backward();
        var ex = Assert.Throws<TorchException>(() => loss.backward());
        Assert.Contains("second time", ex.Message);
    }

    [Fact]
    public void Backward_with_an_explicit_gradient_and_retain_grad_on_an_intermediate()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 2.0, 3.0 }, requires_grad: true);
        var y = x.mul(x).retain_grad();
        var z = y.mul(2.0);
        z.backward(torch.tensor(new[] { 1.0, 0.5, -1.0 }));
        Assert.Equal(new[] { 2.0, 1.0, -2.0 }, y.grad!.data<double>());
        Assert.Equal(new[] { 4.0, 4.0, -12.0 }, x.grad!.data<double>());
    }

    [Fact]
    public void Setting_grad_replaces_it()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([2], ScalarType.Float64, requires_grad: true);
        x.grad = torch.tensor(new[] { 0.5, 0.25 });
        Assert.Equal(new[] { 0.5, 0.25 }, x.grad!.data<double>());
        x.grad = null;
        Assert.Null(x.grad);
    }
}
