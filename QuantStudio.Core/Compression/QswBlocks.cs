using System.Text;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Quantization.Reference;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Compression;

/// <summary>One tensor stored in a packed-weights file (.qsw) or a compressed checkpoint.</summary>
public abstract class QswBlock
{
    protected QswBlock(string name, long[] shape)
    {
        if (Encoding.UTF8.GetByteCount(name) > ushort.MaxValue)
            throw new ArgumentException($"tensor name is longer than {ushort.MaxValue} UTF-8 bytes", nameof(name));
        if (shape.Length > byte.MaxValue)
            throw new ArgumentException($"tensor '{name}' has {shape.Length} dimensions; at most {byte.MaxValue} are stored", nameof(shape));
        Name = name;
        Shape = shape;
    }

    public string Name { get; }
    public long[] Shape { get; }
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    internal const byte KindQuantized = 0;
    internal const byte KindRaw = 1;

    /// <summary>Exact number of bytes <see cref="Write"/> produces.</summary>
    public long SerializedSize => 1 + 2 + Encoding.UTF8.GetByteCount(Name) + 1 + 8L * Shape.Length + BodySize;

    protected abstract byte Kind { get; }
    protected abstract long BodySize { get; }
    protected abstract void WriteBody(BinaryWriter w);

    public void Write(BinaryWriter w)
    {
        w.Write(Kind);
        var name = Encoding.UTF8.GetBytes(Name);
        w.Write((ushort)name.Length);
        w.Write(name);
        w.Write((byte)Shape.Length);
        foreach (var s in Shape)
            w.Write(s);
        WriteBody(w);
    }

    /// <summary>The block header every kind shares: kind, name, shape and the element count.</summary>
    internal static (byte Kind, string Name, long[] Shape, long Count) ReadHeader(ByteReader r, int index)
    {
        var kind = r.U8($"tensor #{index}: kind");
        var name = r.Utf8(r.U16($"tensor #{index}: name length"), $"tensor #{index}: name");
        var ndim = r.U8($"tensor '{name}': ndim");
        var shape = new long[ndim];
        long count = 1;
        for (var d = 0; d < ndim; d++)
        {
            shape[d] = r.I64($"tensor '{name}': shape");
            if (shape[d] < 0)
                throw new QswFormatException($"tensor '{name}': shape has a negative dimension {shape[d]}");
            count = shape[d] == 0 || count <= long.MaxValue / shape[d] ? count * shape[d] : throw new QswFormatException($"tensor '{name}': shape is too large");
        }
        return (kind, name, shape, count);
    }

    internal static QswBlock Read(ByteReader r, int index)
    {
        var (kind, name, shape, count) = ReadHeader(r, index);
        return kind switch
        {
            KindQuantized => QuantizedBlock.ReadBody(r, name, shape, count),
            KindRaw => RawBlock.ReadBody(r, name, shape, count),
            _ => throw new QswFormatException($"tensor '{name}': kind is {kind}; allowed: 0 (quantized), 1 (raw)"),
        };
    }
}

/// <summary>
/// A quantized tensor: bits, scheme and bucket size, per-bucket fp32 scales, and the codes packed
/// or Huffman coded. Reading decodes the codes; <see cref="Dequantize"/> turns them back into
/// the exact float32 values the quantizer produced.
/// </summary>
public sealed class QuantizedBlock : QswBlock
{
    private readonly EncodedCodes? encoded;

    public QuantizedBlock(string name, long[] shape, QuantizerSettings settings, float[] alpha, float[] beta, byte[] codes, CodeEncoding? encoding = null)
        : base(name, shape)
    {
        var layout = BucketLayout.For(codes.LongLength, settings.BucketSize);
        if (codes.LongLength != Count)
            throw new ArgumentException($"tensor '{name}': {codes.Length} codes for shape [{string.Join(", ", shape)}]", nameof(codes));
        if (alpha.LongLength != layout.BucketCount || (settings.Scheme == QuantizationScheme.Uniform && beta.LongLength != layout.BucketCount))
            throw new ArgumentException($"tensor '{name}': expected {layout.BucketCount} alpha and beta values, got {alpha.Length} and {beta.Length}", nameof(alpha));
        Settings = settings;
        Alpha = alpha;
        Beta = settings.Scheme == QuantizationScheme.Uniform ? beta : new float[alpha.Length];
        Codes = codes;
        encoded = EncodedCodes.Encode(codes, settings.Bits);
        Encoding = encoding ?? encoded.Smaller;
        Sizes = TensorSizes.Of(name, encoded, layout.BucketCount, settings.ScalesPerBucket);
    }

    public QuantizerSettings Settings { get; }
    public float[] Alpha { get; }
    public float[] Beta { get; }
    public byte[] Codes { get; }
    public CodeEncoding Encoding { get; }
    public TensorSizes Sizes { get; }

    public static QuantizedBlock From(string name, QuantizedTensor q, CodeEncoding? encoding = null) =>
        new(name, q.Shape, q.Settings, q.Alpha.data<float>().ToArray(), q.Beta.data<float>().ToArray(), q.Codes.data<byte>().ToArray(), encoding);

    protected override byte Kind => KindQuantized;

    // bits, scheme, encoding, reserved; bucket size; bucket count; scales; payload.
    protected override long BodySize =>
        4 + 8 + 8 + (long)Alpha.Length * 4 * Settings.ScalesPerBucket
        + CodePayload.Size(encoded!, Encoding);

    protected override void WriteBody(BinaryWriter w)
    {
        w.Write((byte)Settings.Bits);
        w.Write((byte)Settings.Scheme);
        w.Write((byte)Encoding);
        w.Write((byte)0);
        w.Write((ulong)(Settings.BucketSize ?? 0));
        w.Write((ulong)Alpha.Length);
        foreach (var a in Alpha)
            w.Write(a);
        if (Settings.Scheme == QuantizationScheme.Uniform)
        {
            foreach (var b in Beta)
                w.Write(b);
        }
        CodePayload.Write(w, encoded!, Encoding);
    }

    internal static QuantizedBlock ReadBody(ByteReader r, string name, long[] shape, long count)
    {
        string F(string field) => $"tensor '{name}': {field}";
        int bits = r.U8(F("bits"));
        if (bits is < 1 or > 8)
            throw new QswFormatException(F($"bits is {bits}; allowed 1..8"));
        var scheme = r.U8(F("scheme"));
        if (scheme > 1)
            throw new QswFormatException(F($"scheme is {scheme}; allowed 0 (uniform), 1 (absmax)"));
        var encodingByte = (byte)CodePayload.ReadEncoding(r, F);
        r.U8(F("reserved"));
        var bucket = r.U64(F("bucket size"));
        if (bucket > int.MaxValue)
            throw new QswFormatException(F($"bucket size {bucket} is above {int.MaxValue}"));
        QuantizerSettings settings;
        try
        {
            settings = new QuantizerSettings(bits, bucket == 0 ? null : (int)bucket, (QuantizationScheme)scheme);
        }
        catch (ArgumentException e)
        {
            throw new QswFormatException(F(e.Message));
        }
        var layout = BucketLayout.For(count, settings.BucketSize);
        var buckets = r.U64(F("bucket count"));
        if (buckets != (ulong)layout.BucketCount)
            throw new QswFormatException(F($"bucket count is {buckets} but {count} elements in buckets of {layout.BucketSize} make {layout.BucketCount}"));
        var alpha = r.F32Array(layout.BucketCount, F("alpha"));
        var beta = settings.Scheme == QuantizationScheme.Uniform ? r.F32Array(layout.BucketCount, F("beta")) : new float[alpha.Length];

        var codes = CodePayload.Read(r, (CodeEncoding)encodingByte, bits, count, F);
        // Packed codes fit by construction; a Huffman table may name symbols beyond 2^bits only if
        // its alphabet were larger, which FromLengths(2^bits lengths) rules out.
        return new QuantizedBlock(name, shape, settings, alpha, beta, codes, (CodeEncoding)encodingByte);
    }

    /// <summary>The float32 values on the managed path (bit-identical to the kernel's).</summary>
    public float[] Dequantize() => ReferenceBucketedQuantizer.Dequantize(Codes, Alpha, Beta, Settings);

    /// <summary>The float32 values in the tensor's shape, on the fused native kernel.</summary>
    public Tensor DequantizeTensor()
    {
        using var scope = torch.NewDisposeScope();
        var codes = torch.tensor(Codes, Shape);
        var result = BucketedQuantizer.Dequantize(codes, torch.tensor(Alpha), torch.tensor(Beta), Settings);
        return scope.MoveToOuter(result);
    }
}

/// <summary>A tensor stored as is (integer buffers, say): dtype code and raw little-endian bytes.</summary>
public sealed class RawBlock : QswBlock
{
    public RawBlock(string name, long[] shape, ScalarType dtype, byte[] data) : base(name, shape)
    {
        if (data.LongLength != Count * dtype.ElementSize())
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes for shape [{string.Join(", ", shape)}] of {dtype}", nameof(data));
        DType = dtype;
        Data = data;
    }

    public ScalarType DType { get; }
    public byte[] Data { get; }

    /// <summary>The block holding <paramref name="tensor"/>'s elements as they are (floating point, integer or bool).</summary>
    public static RawBlock Of(string name, Tensor tensor) => new(name, tensor.shape, tensor.dtype, TensorBytes.Of(tensor));

    /// <summary>The stored tensor; <see cref="QswFormatException"/> for a dtype this build cannot rebuild.</summary>
    public Tensor ToTensor() => TensorBytes.ToTensor(Data, DType, Shape);

    protected override byte Kind => KindRaw;
    protected override long BodySize => 1 + 8 + Data.LongLength;

    protected override void WriteBody(BinaryWriter w)
    {
        w.Write((byte)DType);
        w.Write((ulong)Data.LongLength);
        w.Write(Data);
    }

    internal static RawBlock ReadBody(ByteReader r, string name, long[] shape, long count)
    {
        var code = r.U8($"tensor '{name}': dtype");
        var dtype = (ScalarType)code;
        if (!Enum.IsDefined(dtype))
            throw new QswFormatException($"tensor '{name}': dtype code {code} is unknown");
        var length = r.Length($"tensor '{name}': byte length");
        if (length != count * dtype.ElementSize())
            throw new QswFormatException($"tensor '{name}': {length} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {count * dtype.ElementSize()}");
        return new RawBlock(name, shape, dtype, r.Take(length, $"tensor '{name}': data").ToArray());
    }
}
