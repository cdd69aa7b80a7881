using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>The safetensors dtype names this binding reads and writes, and their tensor dtypes.</summary>
public static class SafetensorsDType
{
    private static readonly (string Name, ScalarType Type)[] Known =
    [
        ("F32", ScalarType.Float32),
        ("F64", ScalarType.Float64),
        ("F16", ScalarType.Float16),
        ("BF16", ScalarType.BFloat16),
        ("I64", ScalarType.Int64),
        ("I32", ScalarType.Int32),
        ("U8", ScalarType.Byte),
        ("BOOL", ScalarType.Bool),
    ];

    /// <summary>The names accepted in a header, for error messages.</summary>
    public static string AllowedNames => string.Join(", ", Known.Select(k => k.Name));

    public static bool TryParse(string name, out ScalarType type)
    {
        foreach (var (n, t) in Known)
        {
            if (n == name)
            {
                type = t;
                return true;
            }
        }
        type = default;
        return false;
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var (n, t) in Known)
        {
            if (t == type)
                return n;
        }
        throw new ArgumentException($"dtype {type} cannot be stored in safetensors (allowed: {AllowedNames})", nameof(type));
    }
}
