using QuantStudio.Cli.CommandLine;
using QuantStudio.Torch;

namespace QuantStudio.Cli.Commands;

/// <summary>Raw tensor bytes for tensors stored unquantized.</summary>
internal static class RawTensorBytes
{
    public static byte[] RawBytes(Tensor t) => t.dtype switch
    {
        ScalarType.Int64 => AsBytes(t.data<long>()),
        ScalarType.Int32 => AsBytes(t.data<int>()),
        ScalarType.Byte => t.data<byte>(),
        ScalarType.Bool => AsBytes(t.data<bool>()),
        _ => throw new InvalidOperationException($"no raw storage for dtype {t.dtype}"),
    };

    private static byte[] AsBytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static Tensor FromRawBytes(byte[] data, ScalarType dtype, long[] shape) => dtype switch
    {
        ScalarType.Int64 => torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
        ScalarType.Int32 => torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
        ScalarType.Byte => torch.tensor(data, shape),
        ScalarType.Bool => torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, bool>(data).ToArray(), shape),
        _ => throw new InputException($"no raw storage for dtype {dtype}"),
    };
}
