using QuantStudio.Core.Engine;
using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

public class MemoryLayoutTests
{
    [Fact]
    public void Channels_last_stores_nhwc_and_keeps_the_values()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(2 * 3 * 2 * 2, ScalarType.Float32).reshape(2, 3, 2, 2);
        Assert.False(x.IsChannelsLast());
        var y = x.ToChannelsLast();
        Assert.True(y.IsChannelsLast());
        Assert.Equal(x.shape, y.shape);
        // N, H, W, C strides: C is innermost.
        Assert.Equal([12L, 1, 6, 3], y.stride());
        Assert.True(x.eq(y).all().item<bool>());
        // The NHWC memory order, read straight from storage: element (n, h, w, c) of x.
        var nhwc = x.permute(0, 2, 3, 1).contiguous().data<float>().ToArray();
        Assert.Equal(nhwc, y.permute(0, 2, 3, 1).data<float>().ToArray());
    }

    [Fact]
    public void Only_4d_tensors_are_channels_last_and_others_pass_through()
    {
        using var scope = torch.NewDisposeScope();
        var v = torch.ones(5, 3);
        Assert.False(v.IsChannelsLast());
        Assert.Equal(v.stride(), v.ToChannelsLast().stride());
        // Channels of size 1 have no layout to speak of: NCHW and NHWC coincide.
        Assert.True(torch.ones(2, 1, 4, 4).IsChannelsLast());
    }

    [Fact]
    public void Convolution_output_is_channels_last_and_equal_to_the_nchw_result()
    {
        torch.manual_seed(8);
        using var conv = Layer.Conv2d(3, 5, 3, padding: 1);
        using var reference = nn.Conv2d(3, 5, 3, padding: 1);
        using (torch.no_grad())
        {
            reference.weight!.copy_(conv.weight);
            reference.bias!.copy_(conv.bias!);
        }
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 6, 6);
        var y = conv.call(x);
        Assert.True(y.IsChannelsLast());
        Assert.True(y.allclose(reference.call(x), rtol: 1e-5, atol: 1e-6));
    }
}
