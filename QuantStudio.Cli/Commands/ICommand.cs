namespace QuantStudio.Cli.Commands;

/// <summary>One `quantstudio` subcommand. Output goes to the given writers so tests can run it in process.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }

    /// <summary>The command's synopsis, printed by `--help` and in usage errors.</summary>
    string UsageLine { get; }

    /// <summary>Runs with the arguments after the command name; returns the process exit code.</summary>
    int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr);
}
