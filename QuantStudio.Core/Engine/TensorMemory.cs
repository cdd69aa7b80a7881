using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>Raw access to a contiguous CPU tensor's own storage, for the managed kernels.</summary>
internal static class TensorMemory
{
    /// <summary>The address of the first element; the tensor must be contiguous, on the CPU, and outlive every use of the pointer.</summary>
    public static unsafe T* Pointer<T>(Tensor t) where T : unmanaged
    {
        if (!t.is_contiguous())
            throw new ArgumentException("the tensor must be contiguous", nameof(t));
        if (t.numel() == 0)
            return null;
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
    }
}
