using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Compression;
using QuantStudio.Core.Quantization;
using DataType = Onnx.TensorProto.Types.DataType;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>
/// Puts a checkpoint's weight tensors into the graph. <see cref="OnnxWeightFormat.Float"/>: the
/// dequantized values as a float32 initializer. <see cref="OnnxWeightFormat.LowBit"/>: a quantized
/// block's codes at their bit width with its per-bucket scales, and the nodes that dequantize them to
/// exactly the float32 values the checkpoint's own dequantization gives (docs/onnx-export.md).
/// Tensors stored in full precision are float32 initializers in both formats.
/// </summary>
internal sealed class OnnxWeightEmitter(OnnxGraphBuilder graph, OnnxWeightFormat format, IReadOnlyDictionary<string, QswBlock> blocks,
    IReadOnlyDictionary<string, float[]> values)
{
    /// <summary>The dequantized float32 values of a state_dict entry, flattened.</summary>
    public float[] Values(string name) =>
        values.TryGetValue(name, out var v) ? v : throw new InvalidOperationException($"tensor '{name}' is not in the checkpoint");

    /// <summary>
    /// The graph value holding weight <paramref name="name"/> in its own shape, each slice along axis 0
    /// (an output channel or row) multiplied by <paramref name="rowScale"/> when one is given (a folded batch norm).
    /// </summary>
    public string Weight(string name, long[] shape, float[]? rowScale = null)
    {
        if (format == OnnxWeightFormat.LowBit && blocks.TryGetValue(name, out var block) && block is not RawBlock)
        {
            var w = Dequantized(name, block, shape);
            return rowScale is null ? w : graph.Node("Mul", [w, graph.Floats($"{name}.bn_scale", rowScale, RowScaleShape(shape))]);
        }
        var data = Values(name);
        if (rowScale is not null)
            data = ScaleRows(data, rowScale);
        return graph.Floats(name, data, shape);
    }

    /// <summary>Weight <paramref name="name"/> [rows, cols] transposed to [cols, rows] (MatMul's right operand).</summary>
    public string WeightTransposed(string name, long[] shape)
    {
        if (format == OnnxWeightFormat.LowBit && blocks.TryGetValue(name, out var block) && block is not RawBlock)
            return graph.Node("Transpose", [Dequantized(name, block, shape)], OnnxGraphBuilder.Ints("perm", 1, 0));
        var data = Values(name);
        long rows = shape[0], cols = shape[1];
        var t = new float[data.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                t[c * rows + r] = data[r * cols + c];
        return graph.Floats(name, t, cols, rows);
    }

    /// <summary>True when the tensor is stored quantized and this export keeps it low-bit.</summary>
    public bool IsLowBit(string name) => format == OnnxWeightFormat.LowBit && blocks.TryGetValue(name, out var b) && b is not RawBlock;

    private static long[] RowScaleShape(long[] shape) => [shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)];

    internal static float[] ScaleRows(float[] data, float[] rowScale)
    {
        var per = data.Length / rowScale.Length;
        var result = new float[data.Length];
        for (var i = 0; i < data.Length; i++)
            result[i] = data[i] * rowScale[i / per];
        return result;
    }

    private string Dequantized(string name, QswBlock block, long[] shape) => block switch
    {
        QuantizedBlock q when q.Settings.Scheme == QuantizationScheme.Uniform => Uniform(name, q, shape),
        QuantizedBlock q => AbsMax(name, q, shape),
        PointsBlock p => Points(name, p, shape),
        LsqBlock l => Lsq(name, l, shape),
        _ => throw new InvalidOperationException($"tensor '{name}': no low-bit form for {block.GetType().Name}"),
    };

    // Uniform min–max buckets: w = code · (α/(2^b − 1)) + β. The codes, padded to whole buckets, form a
    // [buckets, bucket size] matrix; DequantizeLinear along axis 0 with the per-bucket step and zero point 0
    // gives code · step (one float32 product, as our kernel computes it), then Add adds β: the same two
    // float32 operations in the same order, so the result is bit-identical.
    private string Uniform(string name, QuantizedBlock q, long[] shape)
    {
        var bits = q.Settings.Bits;
        var (buckets, size) = Buckets(q.Codes.LongLength, q.Settings.BucketSize);
        float steps = q.Settings.Steps;
        var step = q.Alpha.Select(a => a / steps).ToArray();
        var codes = graph.Raw(name, LowBitPacking.UnsignedType(bits), LowBitPacking.Unsigned(Padded(q.Codes, buckets * size), bits), buckets, size);
        var scaled = graph.Node("DequantizeLinear", [codes, graph.Floats($"{name}.step", step, buckets)], OnnxGraphBuilder.Int("axis", 0));
        var shifted = graph.Node("Add", [scaled, graph.Floats($"{name}.min", q.Beta, buckets, 1)]);
        return Unpad(name, shifted, buckets * size, q.Codes.LongLength, shape);
    }

    // Absmax buckets store a sign bit and a magnitude; the signed level ±magnitude fits b signed bits, and
    // DequantizeLinear of it with the per-bucket step is ±(magnitude · step), our kernel's value.
    private string AbsMax(string name, QuantizedBlock q, long[] shape)
    {
        var bits = q.Settings.Bits;
        var (buckets, size) = Buckets(q.Codes.LongLength, q.Settings.BucketSize);
        float steps = q.Settings.Steps;
        var step = q.Alpha.Select(a => a / steps).ToArray();
        var signBit = 1 << (bits - 1);
        var levels = new sbyte[buckets * size];
        for (var i = 0; i < q.Codes.Length; i++)
        {
            var magnitude = q.Codes[i] & (signBit - 1);
            levels[i] = (sbyte)((q.Codes[i] & signBit) != 0 ? -magnitude : magnitude);
        }
        var codes = graph.Raw(name, LowBitPacking.SignedType(bits), LowBitPacking.Signed(levels, bits), buckets, size);
        var scaled = graph.Node("DequantizeLinear", [codes, graph.Floats($"{name}.step", step, buckets)], OnnxGraphBuilder.Int("axis", 0));
        return Unpad(name, scaled, buckets * size, q.Codes.LongLength, shape);
    }

    // Learned points: w = points[code] · α + β. The codes become indices (DequantizeLinear with scale 1, then Cast:
    // exact for integers below 2^24), Gather picks the points, then Mul and Add per bucket, as PointsBlock does.
    private string Points(string name, PointsBlock p, long[] shape)
    {
        var bits = p.Bits;
        var (buckets, size) = Buckets(p.Codes.LongLength, p.BucketSize);
        var codes = graph.Raw(name, LowBitPacking.UnsignedType(bits), LowBitPacking.Unsigned(Padded(p.Codes, buckets * size), bits), buckets, size);
        var asFloat = graph.Node("DequantizeLinear", [codes, graph.Float($"{name}.one", 1f)]);
        var index = graph.Node("Cast", [asFloat], OnnxGraphBuilder.Int("to", (long)DataType.Int64));
        var point = graph.Node("Gather", [graph.Floats($"{name}.points", p.Points, p.Points.Length), index]);
        var scaled = graph.Node("Mul", [point, graph.Floats($"{name}.range", p.Alpha, buckets, 1)]);
        var shifted = graph.Node("Add", [scaled, graph.Floats($"{name}.min", p.Beta, buckets, 1)]);
        return Unpad(name, shifted, buckets * size, p.Codes.LongLength, shape);
    }

    // LSQ: w = (code − 2^(b−1)) · s; the signed level with one per-tensor step is DequantizeLinear's own form.
    private string Lsq(string name, LsqBlock l, long[] shape)
    {
        var levels = l.Codes.Select(c => (sbyte)(c - l.Offset)).ToArray();
        var codes = graph.Raw(name, LowBitPacking.SignedType(l.Bits), LowBitPacking.Signed(levels, l.Bits), l.Codes.LongLength);
        var scaled = graph.Node("DequantizeLinear", [codes, graph.Float($"{name}.step", l.Step)]);
        return graph.Node("Reshape", [scaled, graph.Int64s($"{name}.shape", shape)]);
    }

    private static (long Buckets, long Size) Buckets(long count, int? bucketSize)
    {
        var layout = BucketLayout.For(count, bucketSize);
        return (layout.BucketCount, layout.BucketSize);
    }

    private static byte[] Padded(byte[] codes, long length)
    {
        if (codes.LongLength == length)
            return codes;
        var padded = new byte[length];
        codes.CopyTo(padded, 0);
        return padded;
    }

    // [buckets, size] → flat → drop the padding of the last bucket → the tensor's shape.
    private string Unpad(string name, string matrix, long padded, long count, long[] shape)
    {
        if (padded != count)
        {
            var flat = graph.Node("Reshape", [matrix, graph.Int64s($"{name}.flat_shape", padded)]);
            matrix = graph.Node("Slice", [flat, graph.Int64s($"{name}.start", 0), graph.Int64s($"{name}.end", count)]);
        }
        return graph.Node("Reshape", [matrix, graph.Int64s($"{name}.shape", shape)]);
    }
}
