using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

/// <summary>
/// A libtorch tensor owned through an opaque native handle. Dispose it (or create it inside a
/// <see cref="DisposeScope"/>) to free native memory deterministically; the finalizer is only a
/// safety net.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private IntPtr handle;

    internal Tensor(IntPtr handle)
    {
        this.handle = handle;
        DisposeScope.Current?.Add(this);
    }

    ~Tensor() => Free();

    internal DisposeScope? OwningScope { get; set; }

    /// <summary>The native handle; throws once the tensor has been disposed.</summary>
    public IntPtr Handle => handle != IntPtr.Zero
        ? handle
        : throw new ObjectDisposedException(nameof(Tensor), "the tensor has been disposed");

    public bool IsInvalid => handle == IntPtr.Zero;

    public void Dispose()
    {
        OwningScope?.Remove(this);
        OwningScope = null;
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h != IntPtr.Zero)
            LibTorch.THSTensor_dispose(h);
    }

    /// <summary>Wraps a handle returned by the shim, raising the pending libtorch error if it is null.</summary>
    internal static Tensor FromHandle(IntPtr h) => new(NativeError.CheckHandle(h));

    /// <summary>Wraps a handle that may legitimately be null (an absent gradient, say).</summary>
    internal static Tensor? FromOptionalHandle(IntPtr h)
    {
        if (h == IntPtr.Zero)
        {
            NativeError.Check();
            return null;
        }
        return new Tensor(h);
    }

    // ---- metadata ---------------------------------------------------------------------------

    public long dim() => Checked(LibTorch.THSTensor_ndim(Handle));
    public long ndim => dim();
    public long numel() => Checked(LibTorch.THSTensor_numel(Handle));
    public ScalarType dtype => (ScalarType)Checked(LibTorch.THSTensor_dtype(Handle));
    public Device device => new((DeviceType)Checked(LibTorch.THSTensor_device_type(Handle)), LibTorch.THSTensor_device_index(Handle));
    public long element_size() => dtype.ElementSize();

    public unsafe long[] shape
    {
        get
        {
            var n = dim();
            var s = new long[n];
            fixed (long* p = s)
                NativeError.CheckStatus(LibTorch.THSTensor_sizes(Handle, p));
            return s;
        }
    }

    public long size(int d)
    {
        var s = shape;
        var i = d < 0 ? d + s.Length : d;
        if (i < 0 || i >= s.Length)
            throw new ArgumentOutOfRangeException(nameof(d), d, $"dimension out of range for a {s.Length}-d tensor");
        return s[i];
    }

    public unsafe long[] stride()
    {
        var n = dim();
        var s = new long[n];
        fixed (long* p = s)
            NativeError.CheckStatus(LibTorch.THSTensor_strides(Handle, p));
        return s;
    }

    public bool is_contiguous(MemoryFormat format = MemoryFormat.Contiguous) =>
        Checked(LibTorch.THSTensor_is_contiguous(Handle, (int)format)) != 0;

    public bool requires_grad
    {
        get => Checked(LibTorch.THSTensor_requires_grad(Handle)) != 0;
        set => NativeError.CheckStatus(LibTorch.THSTensor_set_requires_grad(Handle, value ? 1 : 0));
    }

    public Tensor requires_grad_(bool value = true)
    {
        requires_grad = value;
        return this;
    }

    public bool is_leaf => Checked(LibTorch.THSTensor_is_leaf(Handle)) != 0;

    // ---- data out ---------------------------------------------------------------------------

    /// <summary>Copies the elements, in row-major order, into a new array. <typeparamref name="T"/> must match the dtype.</summary>
    public unsafe T[] data<T>() where T : unmanaged
    {
        var want = ScalarTypeExtensions.ToScalarType(typeof(T));
        var have = dtype;
        if (want != have)
            throw new InvalidOperationException($"cannot read a {have} tensor as {typeof(T).Name} ({want}); convert it with to_type first");
        var result = new T[numel()];
        fixed (T* p = result)
            NativeError.CheckStatus(LibTorch.THSTensor_copy_to_buffer(Handle, p, (long)result.Length * sizeof(T)));
        return result;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, whose length must equal numel().</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        var want = ScalarTypeExtensions.ToScalarType(typeof(T));
        if (want != dtype)
            throw new InvalidOperationException($"cannot read a {dtype} tensor as {typeof(T).Name}");
        fixed (T* p = destination)
            NativeError.CheckStatus(LibTorch.THSTensor_copy_to_buffer(Handle, p, (long)destination.Length * sizeof(T)));
    }

    /// <summary>The value of a one-element tensor, converted to <typeparamref name="T"/>.</summary>
    public T item<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(long) || typeof(T) == typeof(int) || typeof(T) == typeof(bool) || typeof(T) == typeof(byte))
        {
            var v = LibTorch.THSTensor_item_int64(Handle);
            NativeError.Check();
            return (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }
        var d = LibTorch.THSTensor_item_double(Handle);
        NativeError.Check();
        return (T)Convert.ChangeType(d, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public float ToSingle() => item<float>();
    public double ToDouble() => item<double>();
    public long ToInt64() => item<long>();

    public override string ToString() =>
        handle == IntPtr.Zero ? "tensor(disposed)" : $"tensor(shape=[{string.Join(", ", shape)}], dtype={dtype}, device={device})";

    /// <summary>libtorch's own printout of the values.</summary>
    public string ToStringWithData() => NativeError.TakeString(NativeError.CheckHandle(LibTorch.THSTensor_to_string(Handle)));

    private static long Checked(long value)
    {
        if (value < 0)
            NativeError.Check();
        return value;
    }

    private static int Checked(int value)
    {
        if (value < 0)
            NativeError.Check();
        return value;
    }
}
