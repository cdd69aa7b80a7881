using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;

namespace QuantStudio.Tests.Web;

/// <summary>Safetensors files holding a zoo model's freshly initialized weights, as a user's teacher upload would.</summary>
internal static class TeacherFiles
{
    /// <summary>A narrow teacher keeps the files small (about 1.1 MB for cifar-teacher).</summary>
    public const double Width = 0.25;

    public static readonly InputShape Shapes = InputShape.Image(3, 32, 32, 10);
    public static readonly InputShape Mnist = InputShape.Image(1, 28, 28, 10);

    public static byte[] Of(string arch, double width, InputShape input)
    {
        using var model = ModelZoo.Create(arch, input, width);
        using var state = model.StateDictOf();
        return Safetensors.Serialize(state, new Dictionary<string, string> { ["arch"] = arch });
    }
}
