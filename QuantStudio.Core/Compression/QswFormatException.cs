namespace QuantStudio.Core.Compression;

/// <summary>A packed-weights file that is not valid: the message names the tensor or field and the problem.</summary>
public sealed class QswFormatException : Exception
{
    public QswFormatException(string message) : base(message) { }
}
