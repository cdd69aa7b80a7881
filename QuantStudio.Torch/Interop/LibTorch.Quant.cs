using System.Runtime.InteropServices;

namespace QuantStudio.Torch.Interop;

// Declarations for Native/src/THSQuant.cpp.
internal static unsafe partial class LibTorch
{
    [LibraryImport(Lib)] internal static partial int THSQuant_bucketed_quantize(IntPtr input, long bucket_size, int bits, int scheme, int stochastic, ulong seed, IntPtr* dequantized, IntPtr* codes, IntPtr* alpha, IntPtr* beta);
    [LibraryImport(Lib)] internal static partial IntPtr THSQuant_bucketed_dequantize(IntPtr codes, IntPtr alpha, IntPtr beta, long bucket_size, int bits, int scheme);
    [LibraryImport(Lib)] internal static partial IntPtr THSQuant_lsq(IntPtr v, IntPtr s, double qn, double qp, double g);
    [LibraryImport(Lib)] internal static partial int THSQuant_lsq_backward(IntPtr v, IntPtr s, IntPtr grad_output, double qn, double qp, double g, IntPtr* grad_v, IntPtr* grad_s);
}
