namespace QuantStudio.Tests.Engine;

/// <summary>
/// Tests that read process-wide native state run alone: tensors other tests create would move the
/// live-tensor count, their random draws would advance the global generator between a test's
/// manual_seed and its own draws, and they set the thread count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideStateCollection
{
    public const string Name = "Process-wide native state";
}
