namespace QuantStudio.Torch.Interop;

// Declarations for Native/src/THSModules.cpp.
internal static unsafe partial class LibTorch
{
    [System.Runtime.InteropServices.LibraryImport(Lib)] internal static partial int THSTensor_set_data(IntPtr t, IntPtr newData);
}
