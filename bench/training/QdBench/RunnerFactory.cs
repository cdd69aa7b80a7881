using System.Reflection;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Bench.Training;

/// <summary>
/// The experiment runner of QuantStudio.Core (QuantStudio.Core.Training.ExperimentRunner), found by
/// name so that this harness builds against any Core that has the IExperimentRunner contract.
/// </summary>
static class RunnerFactory
{
    public const string RunnerTypeName = "QuantStudio.Core.Training.ExperimentRunner";

    public static IExperimentRunner Create()
    {
        var type = typeof(IExperimentRunner).Assembly.GetType(RunnerTypeName)
            ?? throw new InvalidOperationException($"this build of QuantStudio.Core has no {RunnerTypeName}");
        // Its constructor's parameters are optional (a compressed checkpoint writer): pass null for each.
        var ctor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderBy(c => c.GetParameters().Length).First();
        var instance = ctor.Invoke(new object?[ctor.GetParameters().Length]);
        return instance as IExperimentRunner
            ?? throw new InvalidOperationException($"{RunnerTypeName} does not implement {nameof(IExperimentRunner)}");
    }
}
