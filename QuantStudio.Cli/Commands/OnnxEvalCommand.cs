using System.Globalization;
using System.Text.Json;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Export.Onnx;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio eval --model M.onnx`: runs an exported model in ONNX Runtime over a split and prints the
/// same JSON as for a .qsc. Dataset, seed and validation split default to the ones the export wrote
/// into the model's metadata. The graph normalizes its own input, so images go in as pixels in [0, 1].
/// </summary>
internal static class OnnxEvalCommand
{
    public sealed record Request(string ModelPath, string? Dataset, string? Root, string Split, long? Seed, double? ValidationSplit, int BatchSize);

    public static int Execute(Request r, DatasetLoadOptions options, TextWriter stdout)
    {
        if (!File.Exists(r.ModelPath))
            throw new InputException($"--model: no such file '{r.ModelPath}'");
        OnnxModelSession session;
        try
        {
            session = OnnxModelSession.Open(r.ModelPath);
        }
        catch (OnnxModelException e)
        {
            throw new InputException($"--model: '{r.ModelPath}' is not a usable ONNX model: {e.Message}");
        }
        using (session)
        {
            var metadata = session.Metadata;
            var datasetName = r.Dataset ?? metadata.GetValueOrDefault(OnnxMetadataKeys.Dataset)
                ?? throw new UsageException("--dataset is required: the ONNX model does not name the dataset it was trained on");
            if (!DatasetRegistry.Contains(datasetName))
                throw new InputException($"the model names dataset '{datasetName}', which is unknown; pass --dataset (allowed: {string.Join(", ", DatasetRegistry.Names)})");
            var seed = r.Seed ?? (long.TryParse(metadata.GetValueOrDefault(OnnxMetadataKeys.Seed), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : new ExperimentSpec().Seed);
            var validationSplit = r.ValidationSplit
                ?? (double.TryParse(metadata.GetValueOrDefault(OnnxMetadataKeys.ValidationSplit), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : new DatasetSpec().ValidationSplit);
            var spec = new DatasetSpec { Name = datasetName, Root = r.Root, ValidationSplit = validationSplit };
            var data = DatasetRegistry.Load(spec, seed, options);
            CheckInput(session, data.Info, metadata);

            var split = OnnxModelEvaluator.RawPixels(r.Split == "test" ? data.Test : data.Validation);
            var result = OnnxModelEvaluator.Evaluate(session, data, split, r.BatchSize);
            if (result.Predictions == 0)
                throw new InputException($"the {result.Split} split of '{datasetName}' is empty: nothing to evaluate");
            Write(stdout, r.ModelPath, metadata, datasetName, seed, result);
        }
        return 0;
    }

    // The dataset's examples must fit the model's declared input: say which dimension does not, before anything runs.
    private static void CheckInput(OnnxModelSession session, DatasetInfo info, IReadOnlyDictionary<string, string> metadata)
    {
        var text = info.Kind == DatasetKind.CharText;
        if (text != session.TakesIds)
            throw new InputException(session.TakesIds
                ? $"dataset '{info.Name}' holds images, but the ONNX model takes character ids"
                : $"dataset '{info.Name}' holds text, but the ONNX model takes images {session.DescribeInput()}");
        if (text)
        {
            if (metadata.GetValueOrDefault(OnnxMetadataKeys.Vocabulary) is { } vocabulary && info.Vocabulary is not null && vocabulary != info.Vocabulary)
                throw new InputException($"dataset '{info.Name}' maps characters to different ids than the text the model was trained on");
            return;
        }
        if (session.ShapeProblem([1, info.Channels, info.Height, info.Width]) is { } problem)
            throw new InputException($"dataset '{info.Name}' has {info.Channels}x{info.Height}x{info.Width} images: {problem}");
    }

    private static void Write(TextWriter stdout, string modelPath, IReadOnlyDictionary<string, string> metadata, string dataset, long seed, EvaluationResult r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", modelPath);
            w.WriteString("runtime", "onnxruntime");
            if (metadata.GetValueOrDefault(OnnxMetadataKeys.Arch) is { } arch)
                w.WriteString("arch", arch);
            if (metadata.GetValueOrDefault("method") is { } method)
                w.WriteString("method", method);
            if (metadata.GetValueOrDefault("weights") is { } weights)
                w.WriteString("weights", weights);
            w.WriteString("dataset", dataset);
            w.WriteString("split", r.Split);
            w.WriteNumber("seed", seed);
            EvaluationJson.WriteFigures(w, r);
            w.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
