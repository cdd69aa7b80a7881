namespace QuantStudio.Web.Estimation;

/// <summary>
/// Stand-in parameter counts per model, at width and depth 1, until the model zoo reports its own
/// (replace the registration of <see cref="IModelParameterCounts"/> with one backed by the zoo).
/// The CIFAR CNN figures follow the paper's layer lists; the others are the usual published sizes.
/// Width scales conv and linear weights quadratically, depth linearly: an approximation.
/// </summary>
public sealed class PlaceholderParameterCounts : IModelParameterCounts
{
    public static readonly IReadOnlyDictionary<string, long> AtUnitSize = new Dictionary<string, long>
    {
        ["mlp"] = 669_706,           // 784-512-512-10
        ["lenet5"] = 61_706,
        ["lenet5-small"] = 15_000,
        ["cifar-teacher"] = 5_300_000,
        ["cifar-student-1"] = 1_000_000,
        ["cifar-student-2"] = 317_000,
        ["cifar-student-3"] = 111_000,
        ["resnet20"] = 272_000,
        ["resnet32"] = 467_000,
        ["resnet56"] = 856_000,
        ["wrn"] = 2_750_000,         // WRN-16-4
        ["mobilenetv2"] = 2_240_000,
        ["char-lstm"] = 810_000,     // 2 layers, 256 hidden, 65 characters
    };

    public long? Count(string arch, double width = 1.0, double depth = 1.0) =>
        AtUnitSize.TryGetValue(arch, out var n) ? (long)Math.Round(n * width * width * depth) : null;
}
