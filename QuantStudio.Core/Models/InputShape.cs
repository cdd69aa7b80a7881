namespace QuantStudio.Core.Models;

/// <summary>What a model consumes: images [C, H, W] with a class count, or characters with a vocabulary.</summary>
public sealed record InputShape(int Channels, int Height, int Width, int Classes)
{
    public static InputShape Image(int channels, int height, int width, int classes) => new(channels, height, width, classes);

    /// <summary>A character sequence model: <paramref name="vocabulary"/> symbols in and out.</summary>
    public static InputShape Text(int vocabulary) => new(0, 0, 0, vocabulary);

    public bool IsText => Channels == 0;
}
