using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Cli.Commands;

/// <summary>Turns the failures a command can meet into one line on stderr and an exit code.</summary>
public static class CommandRunner
{
    public const int ExitInputError = 1;
    public const int ExitUsageError = 2;

    public static int Guard(string command, TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            return Fail(stderr, command, e.Message, ExitUsageError);
        }
        catch (Exception e) when (e is InputException or SafetensorsFormatException or QswFormatException or FileNotFoundException
                                      or DirectoryNotFoundException or UnauthorizedAccessException or IOException or System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            return Fail(stderr, command, e.Message, ExitInputError);
        }
    }

    private static int Fail(TextWriter stderr, string command, string message, int code)
    {
        // One line, whatever the exception text held.
        stderr.WriteLine($"quantstudio {command}: {message.ReplaceLineEndings(" ")}");
        return code;
    }
}
