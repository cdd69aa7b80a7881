using QuantStudio.Cli.Commands;

namespace QuantStudio.Tests.Cli;

/// <summary>Runs a `quantstudio` command in process and captures its exit code, stdout and stderr.</summary>
internal static class CommandRuns
{
    public static (int Code, string Out, string Err) Run(ICommand command, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = command.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
