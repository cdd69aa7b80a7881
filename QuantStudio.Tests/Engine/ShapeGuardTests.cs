using QuantStudio.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Tests.Engine;

/// <summary>
/// Inputs that would reach a native entry point that aborts the process (a mismatched matmul ends it
/// with exit 134) are refused first, with an exception that names the layer and the mismatch.
/// </summary>
public class ShapeGuardTests
{
    [Fact]
    public void Linear_refuses_the_wrong_number_of_features()
    {
        using var layer = Layer.Linear(8, 3);
        using var x = torch.randn(4, 5);
        var e = Assert.Throws<ArgumentException>(() => layer.call(x));
        Assert.Contains("in_features 8, got 5", e.Message);
    }

    [Fact]
    public void Conv2d_refuses_the_wrong_channels_and_rank()
    {
        using var layer = Layer.Conv2d(3, 4, 3);
        using var gray = torch.randn(2, 1, 8, 8);
        Assert.Contains("input channels 3, got 1", Assert.Throws<ArgumentException>(() => layer.call(gray)).Message);
        using var flat = torch.randn(2, 3);
        Assert.Contains("4-d input", Assert.Throws<ArgumentException>(() => layer.call(flat)).Message);
    }

    [Fact]
    public void Embedding_refuses_ids_outside_its_table_and_non_integer_ids()
    {
        using var layer = Layer.Embedding(10, 4);
        using var ids = torch.tensor(new long[] { 1, 10 });
        Assert.Contains("[0, 10)", Assert.Throws<ArgumentException>(() => layer.call(ids)).Message);
        using var negative = torch.tensor(new long[] { -1 });
        Assert.Throws<ArgumentException>(() => layer.call(negative));
        using var floats = torch.ones(3);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => layer.call(floats)).Message);
    }

    [Fact]
    public void Lstm_refuses_the_wrong_input_size()
    {
        using var layer = Layer.Lstm(6, 8, batch_first: true);
        using var x = torch.randn(2, 5, 7);
        Assert.Contains("input_size", Assert.Throws<ArgumentException>(() => layer.call(x)).Message);
    }

    [Fact]
    public void The_process_goes_on_after_every_refusal()
    {
        Linear_refuses_the_wrong_number_of_features();
        using var layer = Layer.Linear(2, 2);
        using var ok = layer.call(torch.ones(1, 2));
        Assert.Equal([1L, 2], ok.shape);
    }
}
