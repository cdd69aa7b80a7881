using System.Text.RegularExpressions;
using QuantStudio.Cli.CommandLine;

namespace QuantStudio.Cli.Commands;

/// <summary>Answers `--help` and turns every failure a command can meet into one line on stderr and an exit code.</summary>
public static partial class CommandRunner
{
    public const int ExitInputError = 1;
    public const int ExitUsageError = 2;

    /// <summary>`--help` or `-h` anywhere prints the command's usage (exit 0); otherwise runs the body under <see cref="Guard"/>.</summary>
    public static int Run(ICommand command, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<int> body)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            stdout.WriteLine($"{command.Name}: {command.Summary}");
            stdout.WriteLine($"usage: {command.UsageLine}");
            return 0;
        }
        return Guard(command.Name, stderr, body);
    }

    /// <summary>
    /// Runs the body; a usage error exits 2, anything else it throws exits 1. Either way the message is one line
    /// on stderr, never a stack trace: no input may end the command any other way.
    /// </summary>
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
        catch (Exception e) when (e is NullReferenceException or IndexOutOfRangeException or InvalidCastException or KeyNotFoundException)
        {
            // A fault of the program, not of the input: say so, still on one line.
            return Fail(stderr, command, $"internal error ({e.GetType().Name}): {e.Message}", ExitInputError);
        }
        catch (Exception e)
        {
            return Fail(stderr, command, e.Message, ExitInputError);
        }
    }

    private static int Fail(TextWriter stderr, string command, string message, int code)
    {
        // One line, whatever the exception text held, and without .NET's argument names.
        stderr.WriteLine($"quantstudio {command}: {ParameterSuffix().Replace(message, "").ReplaceLineEndings(" ").Trim()}");
        return code;
    }

    /// <summary>What ArgumentException adds to its message: " (Parameter 'name')".</summary>
    [GeneratedRegex(@" ?\(Parameter '[^']*'\)")]
    private static partial Regex ParameterSuffix();
}
