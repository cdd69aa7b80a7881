namespace QuantStudio.Torch;

/// <summary>An error reported by libtorch (shape mismatch, wrong dtype, ...), carrying libtorch's message.</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }
}
