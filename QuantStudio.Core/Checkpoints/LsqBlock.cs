using QuantStudio.Core.Compression;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// A tensor quantized by a learned-step (LSQ) weight quantizer: bits b, the step s and one code per
/// element. The signed level q ∈ [−2^(b−1), 2^(b−1)−1] is stored offset as code = q + 2^(b−1), so
/// codes are the usual unsigned b-bit values; element i is (code − 2^(b−1))·s in float32.
/// </summary>
public sealed class LsqBlock : QswBlock
{
    internal const byte KindLsq = 3;

    private readonly EncodedCodes encoded;

    public LsqBlock(string name, long[] shape, int bits, float step, byte[] codes, CodeEncoding? encoding = null) : base(name, shape)
    {
        if (bits is < 2 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"tensor '{name}': LSQ weights need bits in 2..8");
        if (!(step > 0) || !float.IsFinite(step))
            throw new ArgumentOutOfRangeException(nameof(step), step, $"tensor '{name}': the LSQ step must be positive and finite");
        if (codes.LongLength != Count)
            throw new ArgumentException($"tensor '{name}': {codes.Length} codes for shape [{string.Join(", ", shape)}]", nameof(codes));
        Bits = bits;
        Step = step;
        Codes = codes;
        encoded = EncodedCodes.Encode(codes, bits);
        Encoding = encoding ?? encoded.Smaller;
        Sizes = TensorSizes.Of(name, encoded, bucketCount: 1, scalesPerBucket: 1);
    }

    public int Bits { get; }
    public float Step { get; }
    public byte[] Codes { get; }
    public CodeEncoding Encoding { get; }
    public TensorSizes Sizes { get; }

    /// <summary>The offset between a stored code and its signed level: 2^(b−1).</summary>
    public int Offset => 1 << (Bits - 1);

    /// <summary>The code of every weight: round-half-even(clip(w/s, −2^(b−1), 2^(b−1)−1)) + 2^(b−1), the LSQ kernel's float32 expression.</summary>
    public static byte[] Encode(ReadOnlySpan<float> weights, int bits, float step)
    {
        var offset = 1 << (bits - 1);
        float lo = -offset, hi = offset - 1;
        var codes = new byte[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            var x = weights[i] / step;
            x = MathF.Min(hi, MathF.Max(lo, x));
            codes[i] = (byte)((int)MathF.Round(x, MidpointRounding.ToEven) + offset);
        }
        return codes;
    }

    /// <summary>(code − 2^(b−1))·s per element: the level times the step, as the LSQ kernel computes it.</summary>
    public float[] Dequantize()
    {
        var values = new float[Codes.Length];
        for (var i = 0; i < values.Length; i++)
            values[i] = (float)(Codes[i] - Offset) * Step;
        return values;
    }

    protected override byte Kind => KindLsq;

    // bits, encoding, reserved (2); step; codes.
    protected override long BodySize => 1 + 1 + 2 + 4 + CodePayload.Size(encoded, Encoding);

    protected override void WriteBody(BinaryWriter w)
    {
        w.Write((byte)Bits);
        w.Write((byte)Encoding);
        w.Write((ushort)0);
        w.Write(Step);
        CodePayload.Write(w, encoded, Encoding);
    }

    internal static LsqBlock ReadBody(ByteReader r, string name, long[] shape, long count)
    {
        string F(string field) => $"tensor '{name}': {field}";
        int bits = r.U8(F("bits"));
        if (bits is < 2 or > 8)
            throw new QswFormatException(F($"bits is {bits}; allowed 2..8 for LSQ weights"));
        var encoding = CodePayload.ReadEncoding(r, F);
        r.U16(F("reserved"));
        var step = r.F32Array(1, F("step"))[0];
        if (!(step > 0) || !float.IsFinite(step))
            throw new QswFormatException(F($"step is {step}; it must be positive and finite"));
        var codes = CodePayload.Read(r, encoding, bits, count, F);
        return new LsqBlock(name, shape, bits, step, codes, encoding);
    }
}
