using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

// Reverse-mode autograd.
public sealed partial class Tensor
{
    public void backward(Tensor? gradient = null, bool retain_graph = false, bool create_graph = false) =>
        NativeError.CheckStatus(LibTorch.THSTensor_backward(Handle, gradient?.Handle ?? IntPtr.Zero, Flag(retain_graph), Flag(create_graph)));

    /// <summary>
    /// The accumulated gradient, or null. Each read returns a new handle to the same storage:
    /// dispose it (or read it inside a dispose scope).
    /// </summary>
    public Tensor? grad
    {
        get => FromOptionalHandle(LibTorch.THSTensor_grad(Handle));
        set => NativeError.CheckStatus(LibTorch.THSTensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
    }

    /// <summary>Clears the gradient (to none by default, as PyTorch 2 does).</summary>
    public void zero_grad(bool set_to_none = true) => NativeError.CheckStatus(LibTorch.THSTensor_zero_grad(Handle, Flag(set_to_none)));

    public Tensor detach() => W(LibTorch.THSTensor_detach(Handle));

    public Tensor retain_grad()
    {
        NativeError.CheckStatus(LibTorch.THSTensor_retain_grad(Handle));
        return this;
    }
}
