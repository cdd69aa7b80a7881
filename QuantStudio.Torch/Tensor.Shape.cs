using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

// Views, reshapes, indexing, conversions.
public sealed partial class Tensor
{
    public unsafe Tensor reshape(params long[] shape) { fixed (long* s = shape) return W(LibTorch.THSTensor_reshape(Handle, s, shape.Length)); }
    public unsafe Tensor view(params long[] shape) { fixed (long* s = shape) return W(LibTorch.THSTensor_view(Handle, s, shape.Length)); }
    public Tensor flatten(long start_dim = 0, long end_dim = -1) => W(LibTorch.THSTensor_flatten(Handle, start_dim, end_dim));
    public unsafe Tensor permute(params long[] dims) { fixed (long* d = dims) return W(LibTorch.THSTensor_permute(Handle, d, dims.Length)); }
    public Tensor transpose(long dim0, long dim1) => W(LibTorch.THSTensor_transpose(Handle, dim0, dim1));
    public Tensor t() => transpose(0, 1);
    public Tensor unsqueeze(long dim) => W(LibTorch.THSTensor_unsqueeze(Handle, dim));
    public Tensor squeeze(long dim) => W(LibTorch.THSTensor_squeeze(Handle, dim));
    public unsafe Tensor expand(params long[] shape) { fixed (long* s = shape) return W(LibTorch.THSTensor_expand(Handle, s, shape.Length)); }
    public Tensor narrow(long dim, long start, long length) => W(LibTorch.THSTensor_narrow(Handle, dim, start, length));
    public Tensor slice(long dim, long start, long end, long step = 1) => W(LibTorch.THSTensor_slice(Handle, dim, start, end, step));
    public Tensor select(long dim, long index) => W(LibTorch.THSTensor_select(Handle, dim, index));
    public Tensor index_select(long dim, Tensor index) => W(LibTorch.THSTensor_index_select(Handle, dim, index.Handle));
    public Tensor gather(long dim, Tensor index) => W(LibTorch.THSTensor_gather(Handle, dim, index.Handle));
    public Tensor masked_select(Tensor mask) => W(LibTorch.THSTensor_masked_select(Handle, mask.Handle));
    public unsafe Tensor flip(params long[] dims) { fixed (long* d = dims) return W(LibTorch.THSTensor_flip(Handle, d, dims.Length)); }

    public Tensor contiguous(MemoryFormat format = MemoryFormat.Contiguous) => W(LibTorch.THSTensor_contiguous(Handle, (int)format));
    /// <summary>The same values in channels_last (NHWC) memory order, for 4-d conv tensors.</summary>
    public Tensor to(MemoryFormat format) => contiguous(format);
    public Tensor to_type(ScalarType type) => W(LibTorch.THSTensor_to_type(Handle, (sbyte)type));
    public Tensor to(ScalarType type) => to_type(type);
    public Tensor to(Device device) => W(LibTorch.THSTensor_to_device(Handle, (int)device.type, device.index));
    public Tensor cpu() => to(Device.CPU);
    public Tensor @float() => to_type(ScalarType.Float32);
    public Tensor @double() => to_type(ScalarType.Float64);
    public Tensor @long() => to_type(ScalarType.Int64);
    public Tensor clone() => W(LibTorch.THSTensor_clone(Handle));
    /// <summary>A new handle to the same tensor (shares storage and autograd identity).</summary>
    public Tensor alias() => W(LibTorch.THSTensor_alias(Handle));
}
