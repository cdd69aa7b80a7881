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
/// seed, validation split and subset default to the ones the checkpoint records, so the split is the one
/// the run evaluated on. Other values on a split held out of the training pool (a test-only folder, a
/// single text, the validation split) pick examples the model trained on: the command warns, and the JSON
/// says <c>includes_training_examples</c>.
/// </summary>
public sealed class EvalCommand(DatasetLoadOptions? datasetOptions = null) : ICommand
{
    public const string Usage =
        "quantstudio eval --model M.qsc|M.onnx [--dataset NAME] [--root DIR] [--split test|validation] [--seed S] " +
        "[--validation-split F] [--subset N] [--batch-size N]";

    private static readonly string[] Options = ["--model", "--dataset", "--root", "--split", "--seed", "--validation-split", "--subset", "--batch-size"];

    private static readonly Dictionary<string, string> Splits = new() { ["test"] = "test", ["validation"] = "validation" };

    public string Name => "eval";
    public string Summary => "evaluate a .qsc model (or an exported .onnx in ONNX Runtime) on a dataset; print accuracy as JSON";

    public string UsageLine => Usage;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandRunner.Run(this, args, stdout, stderr, () => Execute(args, stdout, stderr));

    private int Execute(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
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
        int? subset = a.Optional("--subset") is null ? null : a.Int("--subset", 1, int.MaxValue);
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
            Subset = subset ?? d.Subset,
        };
        var runSeed = seed ?? d.Seed ?? new ExperimentSpec().Seed;
        LoadedDataset data;
        try
        {
            data = DatasetRegistry.Load(spec, runSeed, datasetOptions ?? new DatasetLoadOptions());
        }
        catch (DatasetFileException e) when (e.MissingFiles.Count > 0)
        {
            // The dataset's own message speaks of spec fields; eval's way to point at the files is --root.
            throw new InputException(
                $"{datasetName}: missing {string.Join(", ", e.MissingFiles)} in '{e.Path}' (expected layout: {e.ExpectedLayout}); pass --root with the folder that holds them");
        }
        DatasetCompatibility.Check(d, data.Info);
        var chosen = splitName == "test" ? data.Test : data.Validation;
        var notTheRuns = NotTheRunsSplit(d, datasetName, runSeed, spec, subset is not null);
        var includesTraining = chosen.HeldOutOfTrainingPool && notTheRuns is not null;
        if (includesTraining)
            stderr.WriteLine($"quantstudio eval: WARNING: {notTheRuns}; the {chosen.Name} split of '{datasetName}' is held out of the same examples " +
                             "the run trained on, so it includes examples the model trained on and the figure overstates its accuracy");
        var split = DatasetCompatibility.WithModelNormalization(chosen, d);
        var result = ModelEvaluator.Evaluate(loaded.Model, data, split, batchSize);
        if (result.Predictions == 0)
            throw new InputException($"the {result.Split} split of '{datasetName}' is empty: nothing to evaluate");

        WriteJson(stdout, modelPath, d, datasetName, runSeed, spec, includesTraining, result);
        return 0;
    }

    /// <summary>Why the split asked for may not be the run's own (other seed, validation split or subset, or one the file does not record); null when it is.</summary>
    private static string? NotTheRunsSplit(CompressedModelDescription d, string dataset, long seed, DatasetSpec spec, bool subsetGiven)
    {
        if (dataset != d.Dataset)
            return null;
        if (d.Seed is null || d.ValidationSplit is null)
            return "the checkpoint does not record its run's seed and validation split";
        if (!d.SubsetRecorded && !subsetGiven)
            return "the checkpoint predates the subset field, so the run's dataset.subset is unknown (pass --subset N if the run used one)";
        var differs = new List<string>();
        if (seed != d.Seed)
            differs.Add($"seed {seed} (the run's: {d.Seed})");
        if (spec.ValidationSplit != d.ValidationSplit)
            differs.Add(string.Create(CultureInfo.InvariantCulture, $"validation split {spec.ValidationSplit} (the run's: {d.ValidationSplit})"));
        if (d.SubsetRecorded && spec.Subset != d.Subset)
            differs.Add($"subset {spec.Subset?.ToString(CultureInfo.InvariantCulture) ?? "all"} (the run's: {d.Subset?.ToString(CultureInfo.InvariantCulture) ?? "all"})");
        return differs.Count == 0 ? null : "evaluating with " + string.Join(", ", differs);
    }

    private static void WriteJson(TextWriter stdout, string modelPath, CompressedModelDescription d, string dataset, long seed, DatasetSpec spec,
        bool includesTraining, EvaluationResult r)
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
            w.WriteNumber("validation_split", spec.ValidationSplit);
            if (spec.Subset is { } n)
                w.WriteNumber("subset", n);
            else
                w.WriteNull("subset");
            w.WriteBoolean("includes_training_examples", includesTraining);
            EvaluationJson.WriteFigures(w, r);
            w.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
