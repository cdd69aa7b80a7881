using QuantStudio.Cli.CommandLine;
using QuantStudio.Cli.Commands;
using QuantStudio.Tests.Web;

namespace QuantStudio.Tests.Distributed;

/// <summary>Distributed settings that cannot work are refused at start, each named, by the web node and by the worker.</summary>
public sealed class DistributedSettingsTests
{
    [Fact]
    public void AWebNodeWithHalfTheSettings_RefusesToStart_NamingWhatIsMissing()
    {
        using var factory = new QuantStudioFactory(settings: new Dictionary<string, string?>
        {
            ["QuantStudio:Distributed:RabbitMq"] = "amqp://guest:guest@127.0.0.1:5672/",
            ["QuantStudio:Distributed:HeartbeatSeconds"] = "0",
        });
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = (e.InnerException ?? e).Message;
        Assert.Contains("QuantStudio:Distributed", message);
        Assert.Contains("Postgres:", message);
        Assert.Contains("HeartbeatSeconds:", message);
        QuantStudioFactory.DeleteData(factory.DataDirectory);
    }

    [Fact]
    public void AWorkerWithoutTheStore_ExitsWithOneLineNamingTheFlagAndTheVariable()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = new WorkerCommand().Run(["--rabbitmq", "amqp://guest:guest@127.0.0.1:5672/", "--threads", "1"], stdout, stderr);

        Assert.Equal(CommandRunner.ExitUsageError, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("quantstudio worker: --postgres (or QuantStudio__Distributed__Postgres)", line);
    }

    [Fact]
    public void TheWorkerReadsTheEnvironment_AndItsFlagsWin()
    {
        var env = new Dictionary<string, string>
        {
            ["QuantStudio__Distributed__Postgres"] = "Host=db",
            ["QuantStudio__Distributed__RabbitMq"] = "amqp://mq/",
            ["QuantStudio__Distributed__Queue"] = "from.environment",
            ["QuantStudio__Distributed__MaxAttempts"] = "5",
        };
        var options = WorkerCommand.ReadSettings(CommandArguments.Parse(["--queue", "from.flag"], ["--queue"]), k => env.GetValueOrDefault(k));

        Assert.Equal(("Host=db", "amqp://mq/", "from.flag", 5, 10), (options.Postgres, options.RabbitMq, options.Queue, options.MaxAttempts, options.HeartbeatSeconds));
    }
}
