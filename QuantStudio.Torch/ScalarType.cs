namespace QuantStudio.Torch;

/// <summary>Element types; the numeric values are c10::ScalarType's, as in TorchSharp.</summary>
public enum ScalarType : sbyte
{
    Byte = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Float16 = 5,
    Float32 = 6,
    Float64 = 7,
    Bool = 11,
    BFloat16 = 15,
}

public static class ScalarTypeExtensions
{
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown scalar type"),
    };

    public static bool IsFloatingPoint(this ScalarType t) =>
        t is ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16;

    /// <summary>The dtype that holds a .NET element type.</summary>
    public static ScalarType ToScalarType(Type t) =>
        t == typeof(float) ? ScalarType.Float32 :
        t == typeof(double) ? ScalarType.Float64 :
        t == typeof(long) ? ScalarType.Int64 :
        t == typeof(int) ? ScalarType.Int32 :
        t == typeof(short) ? ScalarType.Int16 :
        t == typeof(byte) ? ScalarType.Byte :
        t == typeof(sbyte) ? ScalarType.Int8 :
        t == typeof(bool) ? ScalarType.Bool :
        t == typeof(Half) ? ScalarType.Float16 :
        throw new ArgumentException($"no tensor dtype holds .NET type {t.Name}", nameof(t));
}
