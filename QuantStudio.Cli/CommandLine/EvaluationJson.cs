using System.Text.Json;
using QuantStudio.Core.Evaluation;

namespace QuantStudio.Cli.CommandLine;

/// <summary>The figures of an evaluation as both eval commands print them: examples, accuracy or perplexity, and loss.</summary>
internal static class EvaluationJson
{
    public static void WriteFigures(Utf8JsonWriter w, EvaluationResult r)
    {
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
    }
}
