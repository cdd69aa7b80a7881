using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>
/// Builds one ONNX graph on the schema classes of OnnxSharp: initializers, nodes with unique output
/// names, inputs and outputs, and the model around it (IR version, opset, metadata).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Opset 21: the first with 4-bit integer types and blocked (De)QuantizeLinear.</summary>
    public const int Opset = 21;

    /// <summary>IR version 10, the one that introduced the 4-bit types (ONNX 1.16).</summary>
    public const int IrVersion = 10;

    private readonly GraphProto graph = new() { Name = "main" };
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> constants = new(StringComparer.Ordinal);
    private int valueCount;

    /// <summary>A fresh value name starting with <paramref name="stem"/>.</summary>
    public string Unique(string stem)
    {
        var name = stem;
        for (var i = 1; !names.Add(name); i++)
            name = $"{stem}_{i}";
        return name;
    }

    public void Input(string name, DataType type, params object[] dims) => graph.Input.Add(ValueInfo(name, type, dims));

    public void Output(string name, DataType type, params object[] dims) => graph.Output.Add(ValueInfo(name, type, dims));

    /// <summary>A float32 initializer holding <paramref name="values"/> in <paramref name="dims"/>.</summary>
    public string Floats(string stem, float[] values, params long[] dims)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Raw(stem, DataType.Float, bytes, dims);
    }

    /// <summary>A float32 scalar; one initializer per distinct value (named by it, f32:6), shared by every node that uses it.</summary>
    public string Float(string stem, float value) =>
        Shared($"f:{BitConverter.SingleToInt32Bits(value)}", () => Floats($"f32:{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", [value]));

    /// <summary>A 1-d int64 initializer (the shape and index operands of Reshape, Slice, Pad and Unsqueeze), named by its values (i64:60,200) and shared.</summary>
    public string Int64s(string stem, params long[] values) =>
        Shared($"i:{string.Join(",", values)}", () =>
        {
            var bytes = new byte[values.Length * sizeof(long)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            return Raw($"i64:{string.Join(",", values)}", DataType.Int64, bytes, values.Length);
        });

    private string Shared(string key, Func<string> create)
    {
        if (!constants.TryGetValue(key, out var name))
            constants[key] = name = create();
        return name;
    }

    /// <summary>An initializer of <paramref name="type"/> whose bytes are already laid out as ONNX stores them (4-bit values two to a byte, low nibble first).</summary>
    public string Raw(string stem, DataType type, byte[] bytes, params long[] dims)
    {
        var name = Unique(stem);
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>
    /// Adds a node of <paramref name="op"/>; returns its (single) output's name. Node names are optional in ONNX
    /// and left out, and values between nodes get short names (_1f): each is written twice (as an output and as
    /// an input), and on a small low-bit model long names would cost as much as its codes. Initializers keep the
    /// state_dict names (the codes of <c>features.conv2.weight</c> under that name), so a reader still sees which layer a node belongs to.
    /// </summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var output = Unique($"_{valueCount++:x}");
        var node = new NodeProto { OpType = op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>Adds a node with several outputs (Split).</summary>
    public string[] NodeWithOutputs(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Unique($"_{valueCount++:x}")).ToArray();
        var node = new NodeProto { OpType = op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return names;
    }

    /// <summary>Renames the value <paramref name="from"/> produced by the last node to <paramref name="to"/> (the graph output's fixed name).</summary>
    public void RenameLastOutput(string from, string to)
    {
        var node = graph.Node.Last();
        var index = node.Output.IndexOf(from);
        if (index < 0)
            throw new InvalidOperationException($"the last node does not produce '{from}'");
        names.Add(to);
        node.Output[index] = to;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto FloatAttribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>The model: this graph under opset <see cref="Opset"/> of the default domain, with <paramref name="metadata"/> as metadata_props.</summary>
    public ModelProto ToModel(string producerVersion, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "QuantStudio",
            ProducerVersion = producerVersion,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        foreach (var d in dims)
        {
            tensor.Shape.Dim.Add(d switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"a dimension is a name or a size, got {d.GetType().Name}", nameof(dims)),
            });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
