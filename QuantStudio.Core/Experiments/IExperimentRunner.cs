namespace QuantStudio.Core.Experiments;

/// <summary>
/// Runs one experiment to the end, writing artifacts into <see cref="RunContext.OutputDirectory"/>
/// (model.qsc, teacher.safetensors, summary.json, checkpoints) and reporting only through
/// <see cref="RunContext.Events"/>. The CLI, the web app's run queue and tests all drive runs
/// through this interface.
/// </summary>
public interface IExperimentRunner
{
    /// <summary>
    /// Completes normally after emitting <see cref="RunFinished"/>; emits <see cref="RunCancelled"/> and
    /// throws <see cref="OperationCanceledException"/> when cancelled; emits <see cref="RunFailed"/> and
    /// rethrows on any other failure.
    /// </summary>
    Task RunAsync(RunContext context, CancellationToken cancellationToken);
}

/// <param name="Spec">The validated spec.</param>
/// <param name="OutputDirectory">The run's own folder; created by the caller.</param>
/// <param name="Events">Where every event goes, already numbered after any earlier events of the run.</param>
/// <param name="Resume">Continue from the last checkpoint in <paramref name="OutputDirectory"/> instead of starting over.</param>
/// <param name="DataDirectory">Where datasets are read from (datasets/&lt;name&gt;) when the spec gives no root.</param>
public sealed record RunContext(ExperimentSpec Spec, string OutputDirectory, RunEventStream Events, bool Resume, string DataDirectory);
