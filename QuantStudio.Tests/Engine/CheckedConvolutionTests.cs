using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Tests.Engine;

/// <summary>
/// CheckedConvolution: the zoo's convolutions against hand-computed ones at the shapes where libtorch 2.10's float32
/// kernels failed on these CPUs, and its check against a stand-in kernel that is wrong on purpose. Alone: one test
/// reads the global random stream.
/// </summary>
[Collection(ProcessWideStateCollection.Name)]
public class CheckedConvolutionTests
{
    /// <summary>A 1×1 convolution by hand, in doubles: y[b, o, i, j] = bias[o] + Σ_c w[o, c] · x[b, c, s·i, s·j].</summary>
    private static double[,,,] PointwiseByHand(float[,,,] x, float[,] w, int stride)
    {
        int n = x.GetLength(0), c = x.GetLength(1), h = (x.GetLength(2) - 1) / stride + 1, wd = (x.GetLength(3) - 1) / stride + 1;
        var y = new double[n, w.GetLength(0), h, wd];
        for (var b = 0; b < n; b++)
            for (var o = 0; o < w.GetLength(0); o++)
                for (var i = 0; i < h; i++)
                    for (var j = 0; j < wd; j++)
                    {
                        double sum = 0;
                        for (var k = 0; k < c; k++)
                            sum += (double)w[o, k] * x[b, k, stride * i, stride * j];
                        y[b, o, i, j] = sum;
                    }
        return y;
    }

    private static float[,,,] Random4(Generator g, int a, int b, int c, int d)
    {
        using var t = torch.randn([a, b, c, d], generator: g);
        var flat = t.data<float>().ToArray();
        var r = new float[a, b, c, d];
        Buffer.BlockCopy(flat, 0, r, 0, flat.Length * sizeof(float));
        return r;
    }

    private static Tensor ToTensor(float[,,,] a)
    {
        var flat = new float[a.Length];
        Buffer.BlockCopy(a, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, [a.GetLength(0), a.GetLength(1), a.GetLength(2), a.GetLength(3)]);
    }

    private static void AssertMatches(double[,,,] expected, Tensor actual, string what)
    {
        using var dense = actual.contiguous();
        var got = dense.data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        var flat = new double[expected.Length];
        Buffer.BlockCopy(expected, 0, flat, 0, flat.Length * sizeof(double));
        var scale = flat.Max(Math.Abs);
        var worst = flat.Zip(got, (e, g) => Math.Abs(e - g)).Max();
        Assert.True(worst <= 1e-5 * Math.Max(1, scale), $"{what}: largest difference {worst} against a largest value of {scale}");
    }

    // libtorch's float32 kernel got this one wrong on every call with 2 threads here (out by up to 2.6 in a range of ±4.3):
    // a 1×1 convolution to 75 channels over a 4×24×7×7 channels_last input.
    // And this one, at AVX-512, overran a heap buffer in its backward and ended the process: a strided 1×1 convolution
    // (wrn's first shortcut at width 0.5 and batch 4).
    [Theory]
    [InlineData(4, 24, 75, 7, 1)]
    [InlineData(4, 8, 16, 32, 2)]
    public void Pointwise_convolutions_where_the_native_kernel_failed_match_a_hand_computation(int n, int cin, int cout, int size, int stride)
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var x = Random4(g, n, cin, size, size);
        var w4 = Random4(g, cout, cin, 1, 1);
        var w = new float[cout, cin];
        for (var o = 0; o < cout; o++)
            for (var k = 0; k < cin; k++)
                w[o, k] = w4[o, k, 0, 0];
        using var conv = Layer.Conv2d(cin, cout, 1, stride: stride, hasBias: false);
        using (torch.no_grad())
            conv.weight.copy_(ToTensor(w4));
        var input = ToTensor(x).requires_grad_();
        var y = conv.call(input);
        var expected = PointwiseByHand(x, w, stride);
        AssertMatches(expected, y, "output");

        // With the output gradient G: dL/dx[b, c, s·i, s·j] = Σ_o w[o, c] G[b, o, i, j] (zero elsewhere) and
        // dL/dw[o, c] = Σ_b,i,j G[b, o, i, j] x[b, c, s·i, s·j].
        var outGrad = Random4(g, n, cout, expected.GetLength(2), expected.GetLength(3));
        y.backward([ToTensor(outGrad)]);
        var dx = new double[n, cin, size, size];
        var dw = new double[cout, cin, 1, 1];
        for (var b = 0; b < n; b++)
            for (var o = 0; o < cout; o++)
                for (var i = 0; i < expected.GetLength(2); i++)
                    for (var j = 0; j < expected.GetLength(3); j++)
                        for (var k = 0; k < cin; k++)
                        {
                            dx[b, k, stride * i, stride * j] += (double)w[o, k] * outGrad[b, o, i, j];
                            dw[o, k, 0, 0] += (double)outGrad[b, o, i, j] * x[b, k, stride * i, stride * j];
                        }
        AssertMatches(dx, input.grad!, "input gradient");
        AssertMatches(dw, conv.weight.grad!, "weight gradient");
    }

    private static Tensor Native(Tensor x, Tensor w, Tensor? b, long[] stride, long[] padding, long[] dilation, long groups) =>
        F.conv2d(x, w, b, stride, padding, dilation, groups);

    private static Tensor Reference(Tensor x, Tensor w, long[] padding) =>
        F.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), null, [1, 1], padding, [1, 1], 1).to_type(ScalarType.Float32);

    [Fact]
    public void A_kernel_that_is_wrong_for_one_shape_is_replaced_by_float64_for_that_shape_only()
    {
        using var scope = torch.NewDisposeScope();
        var calls = new Dictionary<long, int>();
        // Wrong output for 7 output channels; right for the others.
        var checkedConv = new CheckedConvolution((x, w, b, s, p, d, groups) =>
        {
            calls[w.size(0)] = calls.GetValueOrDefault(w.size(0)) + 1;
            var y = Native(x, w, b, s, p, d, groups);
            return w.size(0) == 7 ? y.add(torch.ones_like(y)) : y;
        });
        var x = torch.randn(2, 3, 6, 6);
        var wrong = torch.randn(7, 3, 3, 3);
        var right = torch.randn(5, 3, 3, 3);
        for (var step = 0; step < 3; step++)
        {
            var y7 = checkedConv.Conv2d(x, wrong, null, [1, 1], [1, 1], [1, 1], 1);
            var y5 = checkedConv.Conv2d(x, right, null, [1, 1], [1, 1], [1, 1], 1);
            Assert.True(y7.allclose(Reference(x, wrong, [1, 1]), 1e-5, 1e-5), "the disagreeing shape computes in float64");
            Assert.True(y5.allclose(Reference(x, right, [1, 1]), 1e-5, 1e-5));
        }
        Assert.Equal(1, calls[7]); // the check only
        Assert.Equal(4, calls[5]); // the check and three steps
        Assert.Equal(2, checkedConv.Checked);
        var disagreement = Assert.Single(checkedConv.Disagreements);
        Assert.Contains("weight 7x3x3x3", disagreement);
        Assert.Contains("input 2x3x6x6", disagreement);
    }

    [Fact]
    public void A_kernel_whose_input_gradient_alone_is_wrong_is_caught_too()
    {
        using var scope = torch.NewDisposeScope();
        // The forward is exact; the input gradient comes out doubled (2x − x.detach() is x going forward, 2 going back).
        var checkedConv = new CheckedConvolution((x, w, b, s, p, d, groups) => Native(x.mul(2).sub(x.detach()), w, b, s, p, d, groups));
        var input = torch.randn(2, 3, 6, 6).requires_grad_();
        var w = torch.randn(4, 3, 3, 3);
        var y = checkedConv.Conv2d(input, w, null, [1, 1], [0, 0], [1, 1], 1);
        y.sum().backward();
        var reference = input.detach().to_type(ScalarType.Float64).requires_grad_();
        Native(reference, w.to_type(ScalarType.Float64), null, [1, 1], [0, 0], [1, 1], 1).sum().backward();
        Assert.Single(checkedConv.Disagreements);
        Assert.True(input.grad!.allclose(reference.grad!.to_type(ScalarType.Float32), 1e-5, 1e-5), "the gradient comes from the float64 computation");
    }

    [Fact]
    public void Checking_a_new_shape_leaves_the_global_random_stream_alone()
    {
        using var scope = torch.NewDisposeScope();
        var checkedConv = new CheckedConvolution(Native);
        var x = torch.randn(1, 2, 5, 5);
        var w = torch.randn(3, 2, 3, 3);
        torch.manual_seed(11);
        var expected = torch.randn(8);
        torch.manual_seed(11);
        checkedConv.Conv2d(x, w, null, [1, 1], [0, 0], [1, 1], 1);
        Assert.Equal(1, checkedConv.Checked);
        Assert.True(torch.randn(8).eq(expected).all().item<bool>(), "the check drew from the global generator");
    }
}
