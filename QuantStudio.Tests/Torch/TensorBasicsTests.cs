using QuantStudio.Torch;

namespace QuantStudio.Tests.Torch;

public class TensorBasicsTests
{
    [Fact]
    public void Creation_round_trips_every_supported_dtype()
    {
        using var f32 = torch.tensor(new float[] { 1.5f, -2f, 3f, 4f }, [2, 2]);
        Assert.Equal([2L, 2L], f32.shape);
        Assert.Equal(ScalarType.Float32, f32.dtype);
        Assert.Equal(new[] { 1.5f, -2f, 3f, 4f }, f32.data<float>());

        using var f64 = torch.tensor(new[] { 0.25, 1e-300 });
        Assert.Equal(new[] { 0.25, 1e-300 }, f64.data<double>());
        using var i64 = torch.tensor(new[] { long.MaxValue, -7L });
        Assert.Equal(new[] { long.MaxValue, -7L }, i64.data<long>());
        using var i32 = torch.tensor(new[] { 3, -9 });
        Assert.Equal(new[] { 3, -9 }, i32.data<int>());
        using var u8 = torch.tensor(new byte[] { 0, 255 });
        Assert.Equal(new byte[] { 0, 255 }, u8.data<byte>());
        using var b = torch.tensor(new[] { true, false, true });
        Assert.Equal(ScalarType.Bool, b.dtype);
        Assert.Equal(new[] { true, false, true }, b.data<bool>());
    }

    [Fact]
    public void Factories_fill_as_documented()
    {
        using var z = torch.zeros(3, 4);
        Assert.All(z.data<float>(), v => Assert.Equal(0f, v));
        using var o = torch.ones([5], ScalarType.Int32);
        Assert.Equal(new[] { 1, 1, 1, 1, 1 }, o.data<int>());
        using var f = torch.full([2], 2.5, ScalarType.Float64);
        Assert.Equal(new[] { 2.5, 2.5 }, f.data<double>());
        using var a = torch.arange(0, 10, 3);
        Assert.Equal(new[] { 0L, 3L, 6L, 9L }, a.data<long>());
        using var r = torch.rand(1000);
        Assert.All(r.data<float>(), v => Assert.InRange(v, 0f, 1f));
        using var ri = torch.randint(-2, 3, [1000]);
        var ints = ri.data<long>();
        Assert.All(ints, v => Assert.InRange(v, -2L, 2L));
        Assert.Contains(-2L, ints);
        Assert.Contains(2L, ints);
        using var n = torch.randn(20000);
        using var mean = n.mean();
        Assert.InRange(mean.item<float>(), -0.05f, 0.05f);
    }

    [Fact]
    public void Arithmetic_broadcasts_like_numpy()
    {
        using var col = torch.tensor(new float[] { 1, 2, 3 }, [3, 1]);
        using var row = torch.tensor(new float[] { 10, 20 }, [1, 2]);
        using var sum = col + row;
        Assert.Equal([3L, 2L], sum.shape);
        Assert.Equal(new float[] { 11, 21, 12, 22, 13, 23 }, sum.data<float>());
        using var prod = col * 2.0;
        Assert.Equal(new float[] { 2, 4, 6 }, prod.data<float>());
        using var rs = 1.0 - col;
        Assert.Equal(new float[] { 0, -1, -2 }, rs.data<float>());
    }

    [Fact]
    public void Round_is_half_to_even()
    {
        using var t = torch.tensor(new float[] { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f });
        using var r = t.round();
        Assert.Equal(new float[] { 0, 2, 2, -0f, -2, 2 }, r.data<float>());
    }

    [Fact]
    public void Reductions_and_argmax_honour_dim_and_keepdim()
    {
        using var t = torch.tensor(new float[] { 1, 5, 3, 9, 2, 4 }, [2, 3]);
        using var s = t.sum(1);
        Assert.Equal(new float[] { 9, 15 }, s.data<float>());
        using var m = t.mean(0, keepdim: true);
        Assert.Equal([1L, 3L], m.shape);
        Assert.Equal(new float[] { 5, 3.5f, 3.5f }, m.data<float>());
        using var am = t.argmax(1);
        Assert.Equal(new long[] { 1, 0 }, am.data<long>());
        var (mx, idx) = t.max(0);
        using (mx)
        using (idx)
        {
            Assert.Equal(new float[] { 9, 5, 4 }, mx.data<float>());
            Assert.Equal(new long[] { 1, 0, 1 }, idx.data<long>());
        }
        using var total = t.sum();
        Assert.Equal(24f, total.item<float>());
    }

    [Fact]
    public void Shape_ops_move_elements_where_expected()
    {
        using var t = torch.arange(0, 6, 1, ScalarType.Float32).reshape(2, 3);
        using var tt = t.transpose(0, 1);
        using var ttc = tt.contiguous();
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, ttc.data<float>());
        using var p = t.unsqueeze(0).permute(2, 0, 1);
        Assert.Equal([3L, 1L, 2L], p.shape);
        using var n = t.narrow(1, 1, 2);
        Assert.Equal(new float[] { 1, 2, 4, 5 }, n.data<float>());
        using var idx = torch.tensor(new long[] { 2, 0 });
        using var sel = t.index_select(1, idx);
        Assert.Equal(new float[] { 2, 0, 5, 3 }, sel.data<float>());
        using var gidx = torch.tensor(new long[] { 0, 0, 1, 2 }, [2, 2]);
        using var g = t.gather(1, gidx);
        Assert.Equal(new float[] { 0, 0, 4, 5 }, g.data<float>());
        using var c = torch.cat([t, t], 0);
        Assert.Equal([4L, 3L], c.shape);
        using var st = torch.stack([t, t], 0);
        Assert.Equal([2L, 2L, 3L], st.shape);
        var (vals, ids) = torch.tensor(new float[] { 3, 1, 2 }).sort();
        using (vals)
        using (ids)
            Assert.Equal(new long[] { 1, 2, 0 }, ids.data<long>());
        var (tv, ti) = torch.tensor(new float[] { 3, 1, 2, 7 }).topk(2);
        using (tv)
        using (ti)
            Assert.Equal(new float[] { 7, 3 }, tv.data<float>());
        using var bc = torch.tensor(new long[] { 0, 2, 2, 3 }).bincount();
        Assert.Equal(new long[] { 1, 0, 2, 1 }, bc.data<long>());
        using var h = torch.tensor(new float[] { 0, 0.1f, 0.6f, 1 }).histc(2, 0, 1);
        Assert.Equal(new float[] { 2, 2 }, h.data<float>());
    }

    [Fact]
    public void Where_clamp_and_comparisons_select_elementwise()
    {
        using var x = torch.tensor(new float[] { -2, -0.5f, 0.5f, 3 });
        using var pos = x.gt(0);
        Assert.Equal(ScalarType.Bool, pos.dtype);
        using var zero = torch.zeros(4);
        using var w = torch.where(pos, x, zero);
        Assert.Equal(new float[] { 0, 0, 0.5f, 3 }, w.data<float>());
        using var c = x.clamp(-1, 1);
        Assert.Equal(new float[] { -1, -0.5f, 0.5f, 1 }, c.data<float>());
        using var sgn = x.sign();
        Assert.Equal(new float[] { -1, -1, 1, 1 }, sgn.data<float>());
    }

    [Fact]
    public void Cuda_availability_is_reported_without_throwing()
    {
        // Debian's libtorch is CPU-only; a CUDA build would report true on a GPU machine.
        var available = torch.cuda.is_available();
        Assert.Equal(available, torch.cuda.device_count() > 0);
    }
}

public class IntegralArithmeticTests
{
    [Fact]
    public void Integer_tensors_accept_whole_number_alphas_and_in_place_updates()
    {
        using var counter = torch.zeros([1], ScalarType.Int64);
        using var one = torch.ones([1], ScalarType.Int64);
        counter.add_(one).add_(one, 2).add_(3);
        Assert.Equal(6L, counter.item<long>());
        using var sum = counter.add(one, 4);
        Assert.Equal(10L, sum.item<long>());
        Assert.Equal(ScalarType.Int64, sum.dtype);
        Assert.Throws<TorchException>(() => counter.add_(one, 0.5));
    }
}
