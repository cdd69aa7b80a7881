using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace QuantStudio.Core.Export.Onnx;

/// <summary>An ONNX file that cannot be used: not an ONNX model, or not one with one tensor input and one output.</summary>
public sealed class OnnxModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// An ONNX model opened in ONNX Runtime (CPU), with its one input and one output. Inputs are checked
/// against the model's declared shape before they reach the runtime, so a mismatch is one clear error
/// naming both shapes.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession session;

    private OnnxModelSession(InferenceSession session)
    {
        this.session = session;
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1)
        {
            session.Dispose();
            throw new OnnxModelException($"the model has {session.InputMetadata.Count} inputs and {session.OutputMetadata.Count} outputs; evaluation needs one of each");
        }
        var (inputName, input) = session.InputMetadata.First();
        InputName = inputName;
        InputDims = [.. input.Dimensions.Select(d => (long)d)];
        InputSymbols = [.. input.SymbolicDimensions];
        TakesIds = input.ElementDataType == TensorElementType.Int64;
        if (!TakesIds && input.ElementDataType != TensorElementType.Float)
        {
            session.Dispose();
            throw new OnnxModelException($"the model's input '{inputName}' holds {input.ElementDataType}; evaluation feeds float32 images or int64 character ids");
        }
        OutputName = session.OutputMetadata.Keys.First();
        Metadata = session.ModelMetadata.CustomMetadataMap;
    }

    /// <summary>Opens <paramref name="path"/>; <see cref="OnnxModelException"/> when ONNX Runtime cannot load it.</summary>
    public static OnnxModelSession Open(string path, int threads = 0)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"no such file '{path}'", path);
        return Create(() => new InferenceSession(path, Options(threads)), path);
    }

    public static OnnxModelSession FromBytes(byte[] model, int threads = 0) => Create(() => new InferenceSession(model, Options(threads)), "the model");

    private static OnnxModelSession Create(Func<InferenceSession> open, string what)
    {
        InferenceSession session;
        try
        {
            session = open();
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException($"ONNX Runtime cannot load {what}: {e.Message}", e);
        }
        return new OnnxModelSession(session);
    }

    private static SessionOptions Options(int threads)
    {
        var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (threads > 0)
        {
            options.IntraOpNumThreads = threads;
            options.InterOpNumThreads = 1;
        }
        return options;
    }

    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>The input's dimensions; −1 for a named (free) one such as the batch.</summary>
    public long[] InputDims { get; }
    public string[] InputSymbols { get; }

    /// <summary>True for a character model (int64 ids), false for images (float32).</summary>
    public bool TakesIds { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The declared input shape as text, named dimensions by name: [batch, 1, 28, 28].</summary>
    public string DescribeInput() =>
        $"[{string.Join(", ", InputDims.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : (InputSymbols[i] is { Length: > 0 } s ? s : "?")))}]";

    /// <summary>Null when <paramref name="shape"/> fits the declared input; otherwise what is wrong.</summary>
    public string? ShapeProblem(long[] shape)
    {
        var given = $"[{string.Join(", ", shape)}]";
        if (shape.Length != InputDims.Length)
            return $"input shape {given} does not fit the model's input '{InputName}' {DescribeInput()}: {shape.Length} dimensions instead of {InputDims.Length}";
        for (var i = 0; i < shape.Length; i++)
            if (InputDims[i] >= 0 && InputDims[i] != shape[i])
                return $"input shape {given} does not fit the model's input '{InputName}' {DescribeInput()}: dimension {i} is {shape[i]}, the model takes {InputDims[i]}";
        return null;
    }

    public (float[] Output, long[] Shape) Run(float[] input, long[] shape)
    {
        if (TakesIds)
            throw new ArgumentException($"the model's input '{InputName}' takes int64 character ids, not float32 images");
        using var value = OrtValue.CreateTensorValueFromMemory(input, Checked(shape, input.LongLength));
        return Run(value);
    }

    public (float[] Output, long[] Shape) Run(long[] ids, long[] shape)
    {
        if (!TakesIds)
            throw new ArgumentException($"the model's input '{InputName}' takes float32 images, not int64 ids");
        using var value = OrtValue.CreateTensorValueFromMemory(ids, Checked(shape, ids.LongLength));
        return Run(value);
    }

    private long[] Checked(long[] shape, long count)
    {
        if (ShapeProblem(shape) is { } problem)
            throw new ArgumentException(problem);
        if (shape.Aggregate(1L, (a, b) => a * b) != count)
            throw new ArgumentException($"{count} values do not fill shape [{string.Join(", ", shape)}]");
        return shape;
    }

    private (float[] Output, long[] Shape) Run(OrtValue input)
    {
        using var options = new RunOptions();
        using var results = session.Run(options, [InputName], [input], [OutputName]);
        var output = results[0];
        return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    public void Dispose() => session.Dispose();
}
