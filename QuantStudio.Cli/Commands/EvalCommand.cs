using System.Globalization;
using System.Text.Json;
using QuantStudio.Cli.CommandLine;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Cli.Commands;

/// <summary>
/// `quantstudio eval --model M.qsc --dataset NAME`: rebuilds the model from a compressed checkpoint
/// and prints its accuracy (or a character model's perplexity) on a split as one JSON object. The
/// seed and validation split default to the ones the checkpoint records, so the split is the one
/// the run evaluated on.
/// </summary>
public sealed class EvalCommand(DatasetLoadOptions? datasetOptions = null) : ICommand
{
    public const string Usage =
        "quantstudio eval --model M.qsc|M.onnx [--dataset NAME] [--root DIR] [--split test|validation] [--seed S] " +
        "[--validation-split F] [--batch-size N]";

    private static readonly string[] Options = ["--model", "--dataset", "--root", "--split", "--seed", "--validation-split", "--batch-size"];

    private static readonly Dictionary<string, string> Splits = new() { ["test"] = "test", ["validation"] = "validation" };

    public string Name => "eval";
    public string Summary => "evaluate a .qsc model (or an exported .onnx in ONNX Runtime) on a dataset; print accuracy as JSON";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Guard(Name, stderr, () => Execute(args, stdout));

    private int Execute(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = CommandArguments.Parse(args, Options);
        if (a.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'; usage: {Usage}");
        var modelPath = a.Required("--model");
        var splitName = a.Choice("--split", Splits, "test");
        var batchSize = a.Int("--batch-size", 1, 65536, ModelEvaluator.DefaultBatchSize);
        var seedText = a.Optional("--seed");
        long? seed = seedText is null ? null
            : long.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s
            : throw new UsageException($"--seed must be an integer, got '{seedText}'");
        var splitText = a.Optional("--validation-split");
        double? validationSplit = splitText is null ? null
            : double.TryParse(splitText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 0.5 ? v
            : throw new UsageException($"--validation-split must be a number in [0, 0.5], got '{splitText}'");
        var datasetName = a.Optional("--dataset");
        if (datasetName is not null && !DatasetRegistry.Contains(datasetName))
            throw new UsageException($"--dataset: unknown dataset '{datasetName}'; allowed: {string.Join(", ", DatasetRegistry.Names)}");

        if (modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            return OnnxEvalCommand.Execute(new OnnxEvalCommand.Request(modelPath, datasetName, a.Optional("--root"), splitName, seed, validationSplit, batchSize),
                datasetOptions ?? new DatasetLoadOptions(), stdout);

        using var loaded = CheckpointInput.Load(modelPath);
        var d = loaded.Description;
        datasetName ??= d.Dataset;
        if (!DatasetRegistry.Contains(datasetName))
            throw new InputException($"the checkpoint names dataset '{datasetName}', which is unknown; pass --dataset (allowed: {string.Join(", ", DatasetRegistry.Names)})");
        var spec = new DatasetSpec
        {
            Name = datasetName,
            Root = a.Optional("--root"),
            ValidationSplit = validationSplit ?? d.ValidationSplit ?? new DatasetSpec().ValidationSplit,
        };
        var runSeed = seed ?? d.Seed ?? new ExperimentSpec().Seed;
        var data = DatasetRegistry.Load(spec, runSeed, datasetOptions ?? new DatasetLoadOptions());
        DatasetCompatibility.Check(d, data.Info);
        var split = DatasetCompatibility.WithModelNormalization(splitName == "test" ? data.Test : data.Validation, d);
        var result = ModelEvaluator.Evaluate(loaded.Model, data, split, batchSize);
        if (result.Predictions == 0)
            throw new InputException($"the {result.Split} split of '{datasetName}' is empty: nothing to evaluate");

        WriteJson(stdout, modelPath, d, datasetName, runSeed, result);
        return 0;
    }

    private static void WriteJson(TextWriter stdout, string modelPath, CompressedModelDescription d, string dataset, long seed, EvaluationResult r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", modelPath);
            w.WriteString("arch", d.Arch);
            w.WriteString("method", d.Method);
            w.WriteString("dataset", dataset);
            w.WriteString("split", r.Split);
            w.WriteNumber("seed", seed);
            w.WriteNumber("examples", r.Examples);
            if (r.Accuracy is { } accuracy)
            {
                w.WriteNumber("correct", r.Correct);
                w.WriteNumber("accuracy", accuracy);
            }
            w.WriteNumber("loss", r.Loss);
            if (r.Perplexity is { } perplexity)
            {
                w.WriteNumber("characters", r.Predictions);
                w.WriteNumber("perplexity", perplexity);
            }
            w.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
