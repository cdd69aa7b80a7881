using QuantStudio.Core.Experiments;

namespace QuantStudio.Web.Forms;

/// <summary>
/// Which form sections belong to which method: the form hides the others as the method changes.
/// </summary>
public static class MethodSections
{
    public const string Teacher = "teacher";
    public const string Quantization = "quantization";
    public const string Distillation = "distillation";
    public const string DifferentiableQuantization = "dq";
    public const string ActivationQuantization = "activations";
    public const string QkdPhases = "qkd";

    public static IReadOnlyList<string> MethodsFor(string section) => section switch
    {
        Teacher or Distillation => Methods.All.Where(Methods.UsesTeacher).ToArray(),
        Quantization => Methods.All.Where(Methods.Quantizes).ToArray(),
        DifferentiableQuantization => [Methods.DifferentiableQuantization],
        ActivationQuantization => [Methods.Qkd, Methods.Qat],
        QkdPhases => [Methods.Qkd],
        _ => throw new ArgumentException($"unknown section '{section}'", nameof(section)),
    };

    public static bool Shows(string section, string method) => MethodsFor(section).Contains(method);

    public static string Label(string method) => method switch
    {
        Methods.FullPrecision => "Full precision",
        Methods.Distillation => "Distillation",
        Methods.PostTraining => "Post-training quantization (PM)",
        Methods.QuantizedDistillation => "Quantized distillation",
        Methods.DifferentiableQuantization => "Differentiable quantization",
        Methods.Qkd => "QKD (three phases)",
        Methods.Qat => "QAT without distillation",
        _ => method,
    };
}
