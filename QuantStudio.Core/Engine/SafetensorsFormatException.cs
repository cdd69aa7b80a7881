using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// A file that is not valid safetensors: the message names the tensor or header field at fault
/// and what is wrong with it.
/// </summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string message) : base(message) { }

    public SafetensorsFormatException(string message, Exception inner) : base(message, inner) { }
}
