using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Runs;

/// <summary>
/// The one place that decides which <see cref="IExperimentRunner"/> the run queue executes. The trainer is
/// <c>QuantStudio.Core.Training.ExperimentRunner</c>; once it is part of Core, replace the lookup below with
/// <c>services.AddSingleton&lt;IExperimentRunner, ExperimentRunner&gt;()</c>.
/// </summary>
public static class RunnerRegistration
{
    public const string TrainerTypeName = "QuantStudio.Core.Training.ExperimentRunner";

    public static IServiceCollection AddQuantStudioRunner(this IServiceCollection services, bool simulated = false)
    {
        if (simulated)
        {
            services.AddSingleton<IExperimentRunner, SimulatedExperimentRunner>();
            return services;
        }
        var trainer = typeof(IExperimentRunner).Assembly.GetType(TrainerTypeName, throwOnError: false);
        if (trainer is not null && typeof(IExperimentRunner).IsAssignableFrom(trainer) && !trainer.IsAbstract)
            services.AddSingleton(typeof(IExperimentRunner), sp => ActivatorUtilities.CreateInstance(sp, trainer));
        else
            services.AddSingleton<IExperimentRunner, EngineUnavailableRunner>();
        return services;
    }
}

/// <summary>Used while this build has no trainer: every run fails at once with a message saying so.</summary>
public sealed class EngineUnavailableRunner : IExperimentRunner
{
    public Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        const string message = "the training engine is not available in this build (" + RunnerRegistration.TrainerTypeName + " was not found)";
        context.Events.Emit(new RunFailed(message));
        throw new InvalidOperationException(message);
    }
}
