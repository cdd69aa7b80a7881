using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// channels_last for 4-d tensors, which TorchSharp 0.107 has no <c>memory_format</c> API for: the
/// same logical [N, C, H, W] tensor stored as N, H, W, C. oneDNN convolutions keep that layout.
/// </summary>
public static class MemoryLayout
{
    /// <summary>A channels_last copy of a 4-d tensor (the tensor itself, aliased, when it already is one); other tensors alias.</summary>
    public static Tensor ToChannelsLast(this Tensor t)
    {
        if (t.dim() != 4 || t.IsChannelsLast())
            return t.alias();
        using var nhwc = t.permute(0, 2, 3, 1);
        using var dense = nhwc.contiguous();
        return dense.permute(0, 3, 1, 2);
    }

    /// <summary>True for a 4-d tensor whose strides are those of channels_last (dimensions of size 1 may have any stride).</summary>
    public static bool IsChannelsLast(this Tensor t)
    {
        if (t.dim() != 4)
            return false;
        var size = t.shape;
        var stride = t.stride();
        long expected = 1;
        foreach (var d in new[] { 1, 3, 2, 0 })
        {
            if (size[d] != 1 && stride[d] != expected)
                return false;
            expected *= size[d];
        }
        return true;
    }
}
