using System.Runtime.InteropServices;
using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

/// <summary>Entry point with TorchSharp's names: <c>torch.zeros</c>, <c>torch.manual_seed</c>, <c>torch.no_grad()</c> ...</summary>
public static unsafe partial class torch
{
    public static readonly ScalarType float32 = ScalarType.Float32;
    public static readonly ScalarType float64 = ScalarType.Float64;
    public static readonly ScalarType bfloat16 = ScalarType.BFloat16;
    public static readonly ScalarType int64 = ScalarType.Int64;
    public static readonly ScalarType int32 = ScalarType.Int32;
    public static readonly ScalarType uint8 = ScalarType.Byte;
    public static readonly ScalarType @bool = ScalarType.Bool;

    private static Tensor W(IntPtr h) => Tensor.FromHandle(h);
    private static int Flag(bool b) => b ? 1 : 0;

    // ---- creation ---------------------------------------------------------------------------

    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Factory(LibTorch.THSTensor_zeros, shape, dtype, device, requires_grad);
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Factory(LibTorch.THSTensor_ones, shape, dtype, device, requires_grad);
    public static Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Factory(LibTorch.THSTensor_empty, shape, dtype, device, requires_grad);
    /// <summary>Uniform on [0, 1).</summary>
    public static Tensor rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Factory(LibTorch.THSTensor_rand, shape, dtype, device, requires_grad);
    /// <summary>Standard normal.</summary>
    public static Tensor randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Factory(LibTorch.THSTensor_randn, shape, dtype, device, requires_grad);

    public static Tensor zeros(params long[] shape) => zeros(shape, ScalarType.Float32);
    public static Tensor ones(params long[] shape) => ones(shape, ScalarType.Float32);
    public static Tensor rand(params long[] shape) => rand(shape, ScalarType.Float32);
    public static Tensor randn(params long[] shape) => randn(shape, ScalarType.Float32);

    public static unsafe Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? Device.CPU;
        var isInt = !dtype.IsFloatingPoint();
        fixed (long* s = shape)
            return W(LibTorch.THSTensor_full(s, shape.Length, value, Flag(isInt), (sbyte)dtype, (int)d.type, d.index, Flag(requires_grad)));
    }

    /// <summary>Integers uniform on [low, high).</summary>
    public static unsafe Tensor randint(long low, long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.CPU;
        fixed (long* s = shape)
            return W(LibTorch.THSTensor_randint(low, high, s, shape.Length, (sbyte)dtype, (int)d.type, d.index));
    }

    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.CPU;
        return W(LibTorch.THSTensor_arange(start, end, step, (sbyte)dtype, (int)d.type, d.index));
    }

    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64) => arange(0, end, 1, dtype);

    public static Tensor linspace(double start, double end, long steps, ScalarType dtype = ScalarType.Float32) =>
        W(LibTorch.THSTensor_linspace(start, end, steps, (sbyte)dtype));

    public static Tensor randperm(long n, ScalarType dtype = ScalarType.Int64) => W(LibTorch.THSTensor_randperm(n, (sbyte)dtype));
    public static Tensor bernoulli(Tensor probabilities) => W(LibTorch.THSTensor_bernoulli(probabilities.Handle));

    /// <summary>Copies <paramref name="data"/> into a new CPU tensor of the given shape (1-d when omitted).</summary>
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, long[]? shape = null, bool requires_grad = false) where T : unmanaged
    {
        shape ??= [data.Length];
        long count = 1;
        foreach (var s in shape)
        {
            if (s < 0)
                throw new ArgumentException($"negative dimension {s} in shape [{string.Join(", ", shape)}]", nameof(shape));
            count *= s;
        }
        if (count != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} elements but {data.Length} were given", nameof(shape));
        var dtype = ScalarTypeExtensions.ToScalarType(typeof(T));
        fixed (T* p = data)
        fixed (long* s = shape)
            return W(LibTorch.THSTensor_new(p, s, shape.Length, (sbyte)dtype, Flag(requires_grad)));
    }

    public static Tensor tensor<T>(T[] data, long[]? shape = null, bool requires_grad = false) where T : unmanaged =>
        tensor((ReadOnlySpan<T>)data, shape, requires_grad);

    public static Tensor tensor<T>(T[,] data, bool requires_grad = false) where T : unmanaged =>
        tensor(MemoryMarshal.CreateReadOnlySpan(ref data[0, 0], data.Length), [data.GetLength(0), data.GetLength(1)], requires_grad);

    /// <summary>A 0-d tensor.</summary>
    public static Tensor tensor(double value, ScalarType dtype = ScalarType.Float32) => full([], value, dtype);

    public static Tensor from_array<T>(T[] data, params long[] shape) where T : unmanaged => tensor(data, shape.Length == 0 ? null : shape);

    // ---- combinations -----------------------------------------------------------------------

    public static unsafe Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles)
            return W(LibTorch.THSTensor_cat(h, handles.Length, dim));
    }

    public static unsafe Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles)
            return W(LibTorch.THSTensor_stack(h, handles.Length, dim));
    }

    public static Tensor where(Tensor condition, Tensor x, Tensor y) => W(LibTorch.THSTensor_where(condition.Handle, x.Handle, y.Handle));
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor clamp(Tensor t, double? min = null, double? max = null) => t.clamp(min, max);
    public static Tensor searchsorted(Tensor sorted_sequence, Tensor values, bool right = false) =>
        W(LibTorch.THSTensor_searchsorted(sorted_sequence.Handle, values.Handle, Flag(right)));
    public static Tensor one_hot(Tensor indices, long num_classes) => W(LibTorch.THSTensor_one_hot(indices.Handle, num_classes));

    private static IntPtr[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var h = new IntPtr[tensors.Count];
        for (var i = 0; i < h.Length; i++)
            h[i] = tensors[i].Handle;
        return h;
    }

    private unsafe delegate IntPtr FactoryFn(long* shape, int ndim, sbyte dtype, int deviceType, int deviceIndex, int requiresGrad);

    private static unsafe Tensor Factory(FactoryFn fn, long[] shape, ScalarType dtype, Device? device, bool requiresGrad)
    {
        var d = device ?? Device.CPU;
        fixed (long* s = shape)
            return W(fn(s, shape.Length, (sbyte)dtype, (int)d.type, d.index, Flag(requiresGrad)));
    }

    // ---- process state ----------------------------------------------------------------------

    public static void manual_seed(long seed) => NativeError.CheckStatus(LibTorch.THSTorch_manual_seed(seed));

    /// <summary>Intra-op threads. libtorch in a host process may start at 1: set it explicitly.</summary>
    public static void set_num_threads(int threads)
    {
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be at least 1");
        NativeError.CheckStatus(LibTorch.THSTorch_set_num_threads(threads));
    }

    public static int get_num_threads()
    {
        var n = LibTorch.THSTorch_get_num_threads();
        if (n < 0)
            NativeError.Check();
        return n;
    }

    /// <summary>
    /// Keeps freed CPU tensor memory in the process for reuse instead of returning it to the
    /// kernel (glibc's <c>M_MMAP_THRESHOLD</c> / <c>M_TRIM_THRESHOLD</c>, process-wide). With the
    /// defaults a training step page-faults its activations in afresh each time; call this once
    /// before training. Blocks above <paramref name="mmap_threshold"/> are still mapped per
    /// allocation, and a thread other than the main one allocates from arenas of at most 64 MiB,
    /// whose extra heaps glibc still unmaps when they empty. Returns false where the C library
    /// offers no such setting.
    /// </summary>
    public static bool retain_freed_memory(long mmap_threshold = 32L << 20, long trim_threshold = 1L << 30)
    {
        var r = LibTorch.THSTorch_retain_freed_memory(mmap_threshold, trim_threshold);
        if (r < 0)
        {
            NativeError.Check();
            throw new TorchException("retain_freed_memory failed without a message");
        }
        return r == 1;
    }

    /// <summary>Number of live native tensor handles in the process (for leak tests).</summary>
    public static long live_tensor_count() => LibTorch.THSTensor_live_count();

    /// <summary>libtorch's version string, e.g. "1.13.1".</summary>
    public static string version => Marshal.PtrToStringUTF8(LibTorch.THSTorch_version()) ?? "unknown";

    /// <summary>libtorch's build configuration (BLAS, oneDNN, OpenMP ...).</summary>
    public static string config() => NativeError.TakeString(NativeError.CheckHandle(LibTorch.THSTorch_config()));

    /// <summary>Opens a scope that disposes every tensor created on this thread until it is disposed.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Disables gradient recording on this thread until disposed.</summary>
    public static GradModeScope no_grad() => new(false);
    public static GradModeScope enable_grad() => new(true);
    public static bool is_grad_enabled() => LibTorch.THSAutograd_is_grad_enabled() != 0;

    /// <summary>CPU autocast (bf16 by default) on this thread until disposed; weights stay fp32.</summary>
    public static AutocastScope autocast(ScalarType dtype = ScalarType.BFloat16, bool enabled = true) => new(dtype, enabled);

    public static class cuda
    {
        /// <summary>True when the libtorch in use was built with CUDA and a device is present.</summary>
        public static bool is_available() => LibTorch.THSTorch_cuda_is_available() != 0;
        public static int device_count() => LibTorch.THSTorch_cuda_device_count();
    }
}

/// <summary>Restores the previous grad mode when disposed.</summary>
public sealed class GradModeScope : IDisposable
{
    private readonly bool previous;
    private bool disposed;

    internal GradModeScope(bool enabled)
    {
        previous = LibTorch.THSAutograd_is_grad_enabled() != 0;
        LibTorch.THSAutograd_set_grad_enabled(enabled ? 1 : 0);
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        LibTorch.THSAutograd_set_grad_enabled(previous ? 1 : 0);
    }
}

/// <summary>
/// Mirrors <c>torch.autocast("cpu", dtype)</c>: eligible ops (conv, linear, matmul) run in the
/// lower precision while parameters and their gradients stay fp32.
/// </summary>
public sealed class AutocastScope : IDisposable
{
    private readonly bool previousEnabled;
    private readonly sbyte previousDtype;
    private bool disposed;

    internal AutocastScope(ScalarType dtype, bool enabled)
    {
        previousEnabled = LibTorch.THSAutocast_is_cpu_enabled() != 0;
        previousDtype = LibTorch.THSAutocast_get_cpu_dtype();
        NativeError.CheckStatus(LibTorch.THSAutocast_set_cpu_dtype((sbyte)dtype));
        NativeError.CheckStatus(LibTorch.THSAutocast_set_cpu_enabled(enabled ? 1 : 0));
        LibTorch.THSAutocast_increment_nesting();
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        // Casts of weights are cached while any autocast region is open; drop them on the way out.
        if (LibTorch.THSAutocast_decrement_nesting() == 0)
            LibTorch.THSAutocast_clear_cache();
        LibTorch.THSAutocast_set_cpu_enabled(previousEnabled ? 1 : 0);
        LibTorch.THSAutocast_set_cpu_dtype(previousDtype);
    }
}
