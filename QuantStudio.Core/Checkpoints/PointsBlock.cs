using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// A tensor quantized to learned points (differentiable quantization): the points, the per-bucket
/// min–max scales α and β, and one code per element (the index of its point), packed or Huffman
/// coded like every other block. Element i of bucket k is points[code]·α_k + β_k in float32.
/// </summary>
public sealed class PointsBlock : QswBlock
{
    internal const byte KindPoints = 2;

    private readonly EncodedCodes encoded;

    public PointsBlock(string name, long[] shape, float[] points, int? bucketSize, float[] alpha, float[] beta, byte[] codes, CodeEncoding? encoding = null)
        : base(name, shape)
    {
        // Validates count, order and range of the points, and the bucket size.
        _ = new NonUniformQuantizer(points, bucketSize);
        var layout = BucketLayout.For(codes.LongLength, bucketSize);
        if (codes.LongLength != Count)
            throw new ArgumentException($"tensor '{name}': {codes.Length} codes for shape [{string.Join(", ", shape)}]", nameof(codes));
        if (alpha.LongLength != layout.BucketCount || beta.LongLength != layout.BucketCount)
            throw new ArgumentException($"tensor '{name}': expected {layout.BucketCount} alpha and beta values, got {alpha.Length} and {beta.Length}", nameof(alpha));
        for (var i = 0; i < codes.Length; i++)
            if (codes[i] >= points.Length)
                throw new ArgumentException($"tensor '{name}': code {codes[i]} at element {i} names no point (there are {points.Length})", nameof(codes));
        Points = points;
        BucketSize = bucketSize;
        Alpha = alpha;
        Beta = beta;
        Codes = codes;
        Bits = NonUniformQuantizer.BitsFor(points.Length);
        encoded = EncodedCodes.Encode(codes, Bits);
        Encoding = encoding ?? encoded.Smaller;
        // The points table is part of what the tensor costs, like its scales.
        var scaleBytes = layout.BucketCount * 2 * sizeof(float) + points.Length * sizeof(float);
        Sizes = new TensorSizes(name, Count, Bits, scaleBytes, encoded.PackedCodeBytes + scaleBytes, encoded.HuffmanCodeBytes + scaleBytes, encoded.HuffmanMeanBits);
    }

    public float[] Points { get; }
    public int? BucketSize { get; }
    public float[] Alpha { get; }
    public float[] Beta { get; }
    public byte[] Codes { get; }
    public int Bits { get; }
    public CodeEncoding Encoding { get; }
    public TensorSizes Sizes { get; }

    /// <summary>points[code]·α + β per element, the same float32 expression as <see cref="NonUniformQuantizer.Quantize(ReadOnlySpan{float})"/>.</summary>
    public float[] Dequantize()
    {
        var layout = BucketLayout.For(Codes.LongLength, BucketSize);
        var values = new float[Codes.Length];
        for (var k = 0; k < Alpha.Length; k++)
            for (var i = (int)layout.Start(k); i < layout.End(k); i++)
                values[i] = Points[Codes[i]] * Alpha[k] + Beta[k];
        return values;
    }

    protected override byte Kind => KindPoints;

    // bits, encoding, point count; bucket size; bucket count; points; alpha; beta; codes.
    protected override long BodySize => 1 + 1 + 2 + 8 + 8 + 4L * Points.Length + 8L * Alpha.Length + CodePayload.Size(encoded, Encoding);

    protected override void WriteBody(BinaryWriter w)
    {
        w.Write((byte)Bits);
        w.Write((byte)Encoding);
        w.Write((ushort)Points.Length);
        w.Write((ulong)(BucketSize ?? 0));
        w.Write((ulong)Alpha.Length);
        foreach (var p in Points)
            w.Write(p);
        foreach (var a in Alpha)
            w.Write(a);
        foreach (var b in Beta)
            w.Write(b);
        CodePayload.Write(w, encoded, Encoding);
    }

    internal static PointsBlock ReadBody(ByteReader r, string name, long[] shape, long count)
    {
        string F(string field) => $"tensor '{name}': {field}";
        int bits = r.U8(F("bits"));
        var encoding = CodePayload.ReadEncoding(r, F);
        int pointCount = r.U16(F("point count"));
        if (pointCount is < 2 or > NonUniformQuantizer.MaxPoints)
            throw new QswFormatException(F($"point count is {pointCount}; allowed 2..{NonUniformQuantizer.MaxPoints}"));
        if (bits != NonUniformQuantizer.BitsFor(pointCount))
            throw new QswFormatException(F($"bits is {bits} but {pointCount} points need {NonUniformQuantizer.BitsFor(pointCount)}"));
        var bucket = r.U64(F("bucket size"));
        if (bucket > int.MaxValue)
            throw new QswFormatException(F($"bucket size {bucket} is above {int.MaxValue}"));
        int? bucketSize = bucket == 0 ? null : (int)bucket;
        var layout = BucketLayout.For(count, bucketSize);
        var buckets = r.U64(F("bucket count"));
        if (buckets != (ulong)layout.BucketCount)
            throw new QswFormatException(F($"bucket count is {buckets} but {count} elements in buckets of {layout.BucketSize} make {layout.BucketCount}"));
        var points = r.F32Array(pointCount, F("points"));
        var alpha = r.F32Array(layout.BucketCount, F("alpha"));
        var beta = r.F32Array(layout.BucketCount, F("beta"));
        var codes = CodePayload.Read(r, encoding, bits, count, F);
        try
        {
            return new PointsBlock(name, shape, points, bucketSize, alpha, beta, codes, encoding);
        }
        catch (ArgumentException e)
        {
            throw new QswFormatException(e.Message);
        }
    }
}
