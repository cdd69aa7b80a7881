using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>Facts about element types that checks and file formats need.</summary>
public static class ScalarTypeInfo
{
    public static bool IsFloatingPoint(this ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;
}
