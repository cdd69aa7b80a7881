using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

public class NativeErrorTests
{
    [Fact]
    public void Shape_mismatch_raises_a_dotnet_exception_with_libtorchs_message()
    {
        using var a = torch.ones(2, 3);
        using var b = torch.ones(4, 5);
        var ex = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("cannot be multiplied", ex.Message);
        // The process and the binding keep working afterwards.
        using var c = a.matmul(torch.ones(3, 1));
        Assert.Equal([2L, 1L], c.shape);
    }

    [Fact]
    public void Wrong_dtype_raises_with_the_dtypes_named()
    {
        using var f = torch.ones(3);
        using var i = torch.ones([3], ScalarType.Int64);
        var ex = Assert.Throws<TorchException>(() => f.index_select(0, torch.ones([1], ScalarType.Float32)));
        Assert.Contains("int64", ex.Message, StringComparison.OrdinalIgnoreCase);
        var read = Assert.Throws<InvalidOperationException>(() => i.data<float>());
        Assert.Contains("Int64", read.Message);
    }

    [Fact]
    public void Calls_on_a_disposed_tensor_raise_ObjectDisposedException()
    {
        var t = torch.ones(2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.sum());
        Assert.Throws<ObjectDisposedException>(() => t.shape);
        t.Dispose(); // a second dispose is harmless
    }

    [Fact]
    public void Bad_view_and_bad_reshape_are_errors_not_crashes()
    {
        using var t = torch.ones(6);
        Assert.Throws<TorchException>(() => t.view(4, 2));
        Assert.Throws<TorchException>(() => t.reshape(5));
        Assert.Throws<TorchException>(() => torch.cat([torch.ones(2, 2), torch.ones(3, 3)], 0));
        Assert.Throws<ArgumentException>(() => torch.tensor(new float[] { 1, 2, 3 }, [2, 2]));
    }

    [Fact]
    public async Task Errors_are_per_thread_and_do_not_leak_into_later_calls()
    {
        using var a = torch.ones(2, 3);
        Assert.Throws<TorchException>(() => a.view(7));
        using var ok = a.sum();
        Assert.Equal(6f, ok.item<float>());
        var other = await Task.Run(() =>
        {
            using var x = torch.ones(3);
            using var y = x.sum();
            return y.item<float>();
        });
        Assert.Equal(3f, other);
    }
}
