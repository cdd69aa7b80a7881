namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// A file that is not a valid compressed checkpoint, or whose model cannot be rebuilt: the message
/// names the problem (bad magic, unsupported version, checksum mismatch, truncated, unknown
/// architecture, shape mismatch ...) and the field or tensor concerned.
/// </summary>
public sealed class CompressedCheckpointFormatException : Exception
{
    public CompressedCheckpointFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
