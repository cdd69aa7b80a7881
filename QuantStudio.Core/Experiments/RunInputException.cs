namespace QuantStudio.Core.Experiments;

/// <summary>
/// A run cannot go on with what it was given (a checkpoint it cannot read or continue, a teacher file that does not
/// fit): the message says which file or spec field, in the user's terms, on one line.
/// </summary>
public sealed class RunInputException(string message, Exception? inner = null) : Exception(message, inner);
