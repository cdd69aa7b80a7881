using QuantStudio.Core.Experiments;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>Maps a spec's <c>method</c> to its class.</summary>
public static class MethodFactory
{
    /// <param name="teacherLogits">The frozen teacher's logits; required by the methods that learn from a teacher.</param>
    public static TrainingMethod Create(ExperimentSpec spec, Module<Tensor, Tensor> student, TeacherLogits? teacherLogits)
    {
        TeacherLogits Teacher() => teacherLogits ?? throw new ArgumentException($"method '{spec.Method}' needs a teacher (spec field 'teacher')");
        return spec.Method switch
        {
            Methods.FullPrecision => new FullPrecisionMethod(student, spec.Optimizer),
            Methods.Distillation => new DistillationMethod(student, Teacher(), spec.Distillation, spec.Optimizer),
            Methods.PostTraining => new PostTrainingMethod(student, teacherLogits, spec),
            Methods.QuantizedDistillation => new QuantizedDistillationMethod(student, Teacher(), spec),
            Methods.DifferentiableQuantization => new DifferentiableQuantizationMethod(student, Teacher(), spec),
            Methods.Qkd => new QkdMethod(student, Teacher().Teacher, Teacher(), spec),
            Methods.Qat => new QatMethod(student, spec),
            _ => throw new ArgumentException($"unknown method '{spec.Method}'; allowed: {string.Join(", ", Methods.All)}"),
        };
    }
}
