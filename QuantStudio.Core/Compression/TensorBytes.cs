using System.Runtime.InteropServices;
using QuantStudio.Torch;

namespace QuantStudio.Core.Compression;

/// <summary>Tensors to and from their raw little-endian element bytes, for <see cref="RawBlock"/>.</summary>
internal static class TensorBytes
{
    public static byte[] Of(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => AsBytes(t.data<float>()),
        ScalarType.Float64 => AsBytes(t.data<double>()),
        ScalarType.Int64 => AsBytes(t.data<long>()),
        ScalarType.Int32 => AsBytes(t.data<int>()),
        ScalarType.Int16 => AsBytes(t.data<short>()),
        ScalarType.Int8 => AsBytes(t.data<sbyte>()),
        ScalarType.Byte => t.data<byte>(),
        ScalarType.Bool => AsBytes(t.data<bool>()),
        _ => throw new ArgumentException($"tensors of dtype {t.dtype} cannot be stored as they are"),
    };

    public static Tensor ToTensor(byte[] data, ScalarType dtype, long[] shape) => dtype switch
    {
        ScalarType.Float32 => torch.tensor(MemoryMarshal.Cast<byte, float>(data), shape),
        ScalarType.Float64 => torch.tensor(MemoryMarshal.Cast<byte, double>(data), shape),
        ScalarType.Int64 => torch.tensor(MemoryMarshal.Cast<byte, long>(data), shape),
        ScalarType.Int32 => torch.tensor(MemoryMarshal.Cast<byte, int>(data), shape),
        ScalarType.Int16 => torch.tensor(MemoryMarshal.Cast<byte, short>(data), shape),
        ScalarType.Int8 => torch.tensor(MemoryMarshal.Cast<byte, sbyte>(data), shape),
        ScalarType.Byte => torch.tensor((ReadOnlySpan<byte>)data, shape),
        ScalarType.Bool => torch.tensor(MemoryMarshal.Cast<byte, bool>(data), shape),
        _ => throw new QswFormatException($"tensors of dtype {dtype} are not supported"),
    };

    private static byte[] AsBytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
