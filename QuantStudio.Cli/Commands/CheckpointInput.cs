using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Checkpoints;

namespace QuantStudio.Cli.Commands;

/// <summary>Opens the `--model M.qsc` of eval and export, turning every problem into one clear input error.</summary>
internal static class CheckpointInput
{
    public static LoadedCompressedModel Load(string path)
    {
        if (!File.Exists(path))
            throw new InputException($"--model: no such file '{path}'");
        try
        {
            return CompressedCheckpoint.Load(path);
        }
        catch (CompressedCheckpointFormatException e)
        {
            throw new InputException($"--model: '{path}' is not a valid compressed checkpoint: {e.Message}");
        }
    }
}
