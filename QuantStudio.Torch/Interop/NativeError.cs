using System.Runtime.InteropServices;

namespace QuantStudio.Torch.Interop;

/// <summary>Turns the shim's thread-local error slot into .NET exceptions.</summary>
internal static class NativeError
{
    /// <summary>Throws if the last native call on this thread recorded an error.</summary>
    public static void Check()
    {
        var ptr = LibTorch.THSTorch_get_and_reset_last_err();
        if (ptr == IntPtr.Zero)
            return;
        throw new TorchException(TakeString(ptr));
    }

    /// <summary>Checks a handle-returning call: a null handle must come with an error message.</summary>
    public static IntPtr CheckHandle(IntPtr handle)
    {
        if (handle == IntPtr.Zero)
        {
            Check();
            throw new TorchException("libqstorch returned no tensor and no error message");
        }
        return handle;
    }

    /// <summary>Checks a status-returning call (0 = success, -1 = failure).</summary>
    public static void CheckStatus(int status)
    {
        if (status != 0)
        {
            Check();
            throw new TorchException("libqstorch reported a failure without a message");
        }
    }

    /// <summary>Copies a malloc'd UTF-8 string from the shim and frees it.</summary>
    public static string TakeString(IntPtr ptr)
    {
        try
        {
            return Marshal.PtrToStringUTF8(ptr) ?? string.Empty;
        }
        finally
        {
            LibTorch.THSTorch_free_string(ptr);
        }
    }
}
