using System.Globalization;
using System.Text.RegularExpressions;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Models;

/// <summary>Builds the networks a spec names, with the spec's width and depth multipliers.</summary>
public static partial class ModelZoo
{
    /// <summary>
    /// The fixed names; Wide ResNets are also accepted as <c>wrn-D-K</c> (e.g. wrn-16-2): depth D = 6n + 4 up to
    /// <see cref="MaxWrnDepth"/>, widening K (times the width multiplier) up to <see cref="MaxWrnWiden"/>.
    /// </summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "mlp", "lenet5", "lenet5-small",
        "cifar-teacher", "cifar-student-1", "cifar-student-2", "cifar-student-3",
        "resnet20", "resnet32", "resnet56", "wrn", "mobilenetv2", "char-lstm",
    ];

    /// <summary>The deepest <c>wrn-D-K</c> (WRN-40 is the deepest of the paper's CIFAR tables).</summary>
    public const int MaxWrnDepth = 40;

    /// <summary>The widest <c>wrn-D-K</c>, K times the width multiplier (WRN-28-10, the paper's widest, is 36.5M parameters).</summary>
    public const double MaxWrnWiden = 16;

    public static bool IsKnown(string arch) => Names.Contains(arch) || WrnShape(arch) is not null;

    /// <summary>D and K of a <c>wrn-D-K</c> name within the limits, or null.</summary>
    private static (int Depth, double Widen)? WrnShape(string arch)
    {
        var m = WrnName().Match(arch);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var d)
            || !double.TryParse(m.Groups[2].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var k))
            return null;
        return d is >= 10 and <= MaxWrnDepth && (d - 4) % 6 == 0 && k is > 0 and <= MaxWrnWiden ? (d, k) : null;
    }

    /// <summary>True for models that read character ids rather than images.</summary>
    public static bool IsLanguageModel(string arch) => arch == "char-lstm";

    /// <summary>
    /// Builds <paramref name="arch"/> for <paramref name="input"/>. <paramref name="width"/> scales channel
    /// and unit counts; <paramref name="depth"/> scales the repeated blocks of the nets that have them
    /// (mlp, resnets, wrn, mobilenetv2, char-lstm) and is ignored by the fixed-depth ones.
    /// </summary>
    public static Module<Tensor, Tensor> Create(string arch, InputShape input, double width = 1.0, double depth = 1.0)
    {
        if (width <= 0 || double.IsNaN(width))
            throw new ArgumentOutOfRangeException(nameof(width), width, "width multiplier must be positive");
        if (depth <= 0 || double.IsNaN(depth))
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth multiplier must be positive");
        if (IsLanguageModel(arch) != input.IsText)
            throw new ArgumentException(IsLanguageModel(arch)
                ? $"model '{arch}' reads text; pick a text dataset"
                : $"model '{arch}' reads images; pick an image dataset", nameof(arch));

        if (WrnName().IsMatch(arch))
        {
            var (d, k) = WrnShape(arch)
                ?? throw new ArgumentException($"model '{arch}': wrn-D-K needs D = 6n + 4 in 10..{MaxWrnDepth} and K in (0, {MaxWrnWiden}]");
            if (k * width > MaxWrnWiden)
                throw new ArgumentException($"model '{arch}' at width {width}: K × width is {k * width}, above {MaxWrnWiden}");
            return new WideResNet(input, d, k * width);
        }

        return arch switch
        {
            "mlp" => new Mlp(input, ModelScaling.Channels(256, width), ModelScaling.Blocks(2, depth)),
            "lenet5" => new LeNet5(input, width),
            "lenet5-small" => new LeNet5(input, 0.5 * width),
            "cifar-teacher" => CifarConvNet.Teacher(input, width),
            "cifar-student-1" => CifarConvNet.Student1(input, width),
            "cifar-student-2" => CifarConvNet.Student2(input, width),
            "cifar-student-3" => CifarConvNet.Student3(input, width),
            "resnet20" => CifarResNet.OfDepth(20, input, width, depth),
            "resnet32" => CifarResNet.OfDepth(32, input, width, depth),
            "resnet56" => CifarResNet.OfDepth(56, input, width, depth),
            "wrn" => new WideResNet(input, 16, width),
            "mobilenetv2" => new MobileNetV2(input, width, depth),
            "char-lstm" => new CharLstm(input.Classes, ModelScaling.Channels(64, width), ModelScaling.Channels(256, width),
                ModelScaling.Blocks(2, depth)),
            _ => throw new ArgumentException($"unknown model '{arch}'; known: {string.Join(", ", Names)}, wrn-D-K", nameof(arch)),
        };
    }

    [GeneratedRegex(@"^wrn-(\d+)-(\d+(?:\.\d+)?)$")]
    private static partial Regex WrnName();
}
