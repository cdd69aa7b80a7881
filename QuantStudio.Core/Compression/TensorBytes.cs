using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Compression;

/// <summary>Tensors to and from their raw little-endian element bytes, for <see cref="RawBlock"/>.</summary>
internal static class TensorBytes
{
    private static readonly ScalarType[] Supported =
        [ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool];

    public static byte[] Of(Tensor t)
    {
        if (!Supported.Contains(t.dtype))
            throw new ArgumentException($"tensors of dtype {t.dtype} cannot be stored as they are");
        using var dense = t.detach().cpu().contiguous();
        return dense.bytes.ToArray();
    }

    public static Tensor ToTensor(byte[] data, ScalarType dtype, long[] shape)
    {
        if (!Supported.Contains(dtype))
            throw new QswFormatException($"tensors of dtype {dtype} are not supported");
        var expected = shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.ElementSize();
        if (expected != data.Length)
            throw new QswFormatException($"a [{string.Join(", ", shape)}] tensor of {dtype} needs {expected} bytes, got {data.Length}");
        var t = empty(shape, dtype);
        data.CopyTo(t.bytes);
        return t;
    }
}
