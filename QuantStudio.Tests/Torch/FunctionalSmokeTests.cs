using QuantStudio.Torch;
using F = QuantStudio.Torch.torch.nn.functional;

namespace QuantStudio.Tests.Torch;

public class FunctionalSmokeTests
{
    [Fact]
    public void Conv_pool_linear_cross_entropy_produce_expected_shapes_and_values()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(2, 3, 8, 8);
        var w = torch.ones(4, 3, 3, 3);
        var y = F.conv2d(x, w, padding: 1);
        Assert.Equal([2L, 4L, 8L, 8L], y.shape);
        // An interior output sums a full 3x3x3 window of ones.
        Assert.Equal(27f, y.select(0, 0).select(0, 0).select(0, 4).select(0, 4).item<float>());
        var p = F.max_pool2d(y, 2);
        Assert.Equal([2L, 4L, 4L, 4L], p.shape);
        var logits = F.linear(p.flatten(1), torch.zeros(3, 64));
        // Uniform logits over 3 classes: cross-entropy is ln 3.
        var loss = F.cross_entropy(logits, torch.tensor(new long[] { 0, 2 }));
        Assert.Equal(Math.Log(3), loss.item<double>(), 5);
    }

    [Fact]
    public void Lstm_rejects_a_wrong_parameter_count_with_a_clear_message()
    {
        using var x = torch.zeros(1, 2, 3);
        var ex = Assert.Throws<ArgumentException>(() => F.lstm(x, [torch.zeros(8, 3)], 1));
        Assert.Contains("needs 4 weight tensors", ex.Message);
    }
}
