using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Web.Runs;

/// <summary>The one place that decides which <see cref="IExperimentRunner"/> the run queue executes.</summary>
public static class RunnerRegistration
{
    /// <summary>
    /// The trainer (<see cref="ExperimentRunner"/>, writing model.qsc), or with <paramref name="simulated"/> a runner
    /// that emits plausible events without training, for page development.
    /// </summary>
    public static IServiceCollection AddQuantStudioRunner(this IServiceCollection services, bool simulated = false)
    {
        if (simulated)
            services.AddSingleton<IExperimentRunner, SimulatedExperimentRunner>();
        else
            services.AddSingleton<IExperimentRunner>(_ => new ExperimentRunner());
        return services;
    }
}
