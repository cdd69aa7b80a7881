using QuantStudio.Torch.Interop;

namespace QuantStudio.Torch;

// Identity-preserving data swaps and scope ownership, used by modules and optimizers.
public sealed partial class Tensor
{
    /// <summary>
    /// Makes this tensor use <paramref name="data"/>'s storage, shape, strides and dtype while keeping
    /// its identity, as <c>param.data = data</c> does in PyTorch: an optimizer holding this tensor keeps
    /// updating the same parameter after a module is moved to channels_last or another dtype.
    /// </summary>
    public void set_data(Tensor data) => NativeError.CheckStatus(LibTorch.THSTensor_set_data(Handle, data.Handle));

    /// <summary>Takes this tensor out of the dispose scope that would free it: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        OwningScope?.Detach(this);
        return this;
    }
}
