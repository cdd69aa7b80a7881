using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

/// <summary>
/// The zoo's weighted layers against TorchSharp's own (an independent implementation: libtorch's native
/// modules), with the same weights: the same outputs and the same gradients for input and weights.
/// Convolutions are compared with the reference run in float64, which libtorch computes with its own
/// kernels rather than oneDNN's: its float32 NCHW backward is what the zoo avoids (see ConvolutionTrainingTests).
/// </summary>
public class TransformableLayerTests
{
    private static void CopyParameters(nn.Module from, nn.Module to)
    {
        using var noGrad = torch.no_grad();
        var target = to.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(from.named_parameters().Select(p => p.name).Order(), target.Keys.Order());
        foreach (var (name, p) in from.named_parameters())
            target[name].copy_(p);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = expected.sub(actual).abs().max();
        using var scale = expected.abs().max();
        var d = diff.AsDouble();
        Assert.True(d <= tolerance * Math.Max(1, scale.AsDouble()), $"{what}: max |difference| {d}");
    }

    private static void CompareWith(nn.Module<Tensor, Tensor> ours, nn.Module<Tensor, Tensor> reference, Tensor input, double tolerance = 1e-5,
        bool referenceInFloat64 = false)
    {
        using var scope = torch.NewDisposeScope();
        CopyParameters(ours, reference);
        if (referenceInFloat64)
            reference.to(ScalarType.Float64);
        var x1 = input.detach().requires_grad_();
        var x2 = (referenceInFloat64 ? input.to_type(ScalarType.Float64) : input).detach().requires_grad_();
        var y1 = ours.call(x1);
        var y2 = reference.call(x2);
        AssertClose(y2.to_type(ScalarType.Float32), y1, tolerance, "output");
        using var projection = torch.randn(y1.shape);
        y1.mul(projection).sum().backward();
        y2.mul(projection.to_type(y2.dtype)).sum().backward();
        AssertClose(x2.grad!.to_type(ScalarType.Float32), x1.grad!, tolerance, "input gradient");
        var theirs = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in ours.named_parameters())
            AssertClose(theirs[name].grad!.to_type(ScalarType.Float32), p.grad!, tolerance, $"{name} gradient");
    }

    [Theory]
    [InlineData(3, 8, 3, 1, 1, 1, true)]
    [InlineData(4, 6, 5, 2, 2, 2, false)]
    [InlineData(6, 6, 3, 1, 1, 6, false)]
    // A strided 1×1 convolution (a residual shortcut): oneDNN's AVX-512 backward of it on channels_last overran
    // a heap buffer and killed the process; CheckedConvolution runs it as a subsampling and a 1×1 convolution of stride 1.
    [InlineData(8, 16, 1, 2, 0, 1, false)]
    public void Conv2d_matches_torchsharps(int inCh, int outCh, int kernel, int stride, int padding, int groups, bool bias)
    {
        torch.manual_seed(1);
        using var ours = Layer.Conv2d(inCh, outCh, kernel, stride: stride, padding: padding, groups: groups, hasBias: bias);
        using var reference = nn.Conv2d(inCh, outCh, kernel, stride: stride, padding: padding, groups: groups, bias: bias);
        using var x = torch.randn(2, inCh, 9, 9);
        CompareWith(ours, reference, x, referenceInFloat64: true);
    }

    [Fact]
    public void Linear_matches_torchsharps_on_2d_and_3d_inputs()
    {
        torch.manual_seed(2);
        using var ours = Layer.Linear(7, 5);
        using var reference = nn.Linear(7, 5);
        using var x2 = torch.randn(4, 7);
        using var x3 = torch.randn(2, 3, 7);
        CompareWith(ours, reference, x2);
        CompareWith(ours, reference, x3);
    }

    [Fact]
    public void Default_initialization_has_pytorchs_bounds()
    {
        torch.manual_seed(3);
        using var linear = Layer.Linear(100, 50);
        // kaiming_uniform(a = √5) gives U(±1/√fan_in) for the weight, and the bias is U(±1/√fan_in) too.
        var bound = 1 / Math.Sqrt(100);
        Assert.InRange(linear.weight.abs().max().item<float>(), 0.9 * bound, bound);
        Assert.InRange(linear.bias!.abs().max().item<float>(), 0.8 * bound, bound);
    }

    [Fact]
    public void Embedding_matches_torchsharps()
    {
        torch.manual_seed(4);
        using var ours = Layer.Embedding(11, 6);
        using var reference = nn.Embedding(11, 6);
        CopyParameters(ours, reference);
        using var ids = torch.tensor(new long[] { 0, 3, 10, 3, 7, 1 }, [2, 3]);
        using var y1 = ours.call(ids);
        using var y2 = reference.call(ids);
        AssertClose(y2, y1, 0, "output");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void Lstm_matches_torchsharps_outputs_states_and_gradients(int layers, bool batchFirst)
    {
        torch.manual_seed(5);
        using var ours = Layer.Lstm(6, 8, layers, batch_first: batchFirst);
        using var reference = nn.LSTM(6, 8, layers, batchFirst: batchFirst);
        CopyParameters(ours, reference);
        using var scope = torch.NewDisposeScope();
        var x1 = torch.randn(3, 5, 6).requires_grad_();
        var x2 = x1.detach().requires_grad_();
        var (y1, h1, c1) = ours.call(x1);
        var (y2, h2, c2) = reference.call(x2, null);
        AssertClose(y2, y1, 1e-5, "output");
        AssertClose(h2, h1, 1e-5, "h_n");
        AssertClose(c2, c1, 1e-5, "c_n");
        var projection = torch.randn(y1.shape);
        y1.mul(projection).sum().add(c1.sum()).backward();
        y2.mul(projection).sum().add(c2.sum()).backward();
        AssertClose(x2.grad!, x1.grad!, 1e-5, "input gradient");
        var theirs = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in ours.named_parameters())
            AssertClose(theirs[name].grad!, p.grad!, 1e-4, $"{name} gradient");
    }

    [Fact]
    public void A_weight_transform_changes_what_the_layer_computes_and_gradients_reach_the_stored_weight()
    {
        torch.manual_seed(6);
        using var layer = Layer.Linear(3, 2, hasBias: false);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(4, 3);
        var plain = layer.call(x);
        layer.WeightTransform = w => w.mul(2);
        var doubled = layer.call(x);
        AssertClose(plain.mul(2), doubled, 1e-6, "transformed output");
        doubled.sum().backward();
        // d/dW of sum(x (2W)ᵀ) = 2 · Σ_rows x.
        // (sum over dim 0 given as a long: a literal 0 would bind to the ScalarType overload.)
        AssertClose(x.sum(0L).mul(2).expand(2, 3), layer.weight.grad!, 1e-5, "weight gradient");
        layer.WeightTransform = null;
    }
}
