using System.Text.RegularExpressions;
using QuantStudio.Core.Sweeps;

namespace QuantStudio.Tests.Sweeps;

/// <summary>docs/sweeps.md stays true: its sweep document expands, its axis examples read, it lists every sweepable field.</summary>
public sealed partial class SweepDocumentationTests
{
    private static string Doc(string file = "sweeps.md")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", file);
            if (File.Exists(path))
                return File.ReadAllText(path);
        }
        throw new FileNotFoundException($"docs/{file} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task The_cli_example_over_the_example_spec_makes_six_valid_runs()
    {
        var axes = new[] { "quantization.bits=2,4,8", "method=post_training,quantized_distillation" }.Select(a => SweepAxis.Parse(a).Axis!).ToList();
        var plan = await SweepExpander.ExpandAsync(new SweepRequest(null, Doc("examples/qd-shapes.json"), axes));
        Assert.True(plan.IsValid, string.Join("; ", plan.Errors));
        Assert.Equal(6, plan.Runs.Count);
    }

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    [GeneratedRegex(@"^--axis (\S+)$", RegexOptions.Multiline)]
    private static partial Regex AxisLine();

    [GeneratedRegex(@"^\| `([a-z_.]+)` \| (.+) \|$", RegexOptions.Multiline)]
    private static partial Regex FieldRow();

    [Fact]
    public async Task The_documented_sweep_expands_into_the_runs_the_text_says()
    {
        var block = Assert.Single(JsonBlock().Matches(Doc())).Groups[1].Value;
        var (request, errors) = SweepRequestJson.Parse(block);
        Assert.Empty(errors);
        var plan = await SweepExpander.ExpandAsync(request!);
        Assert.True(plan.IsValid, string.Join("; ", plan.Errors));
        Assert.Equal(6, plan.Runs.Count);
        Assert.Equal(["bits=2 method=post_training", "bits=2 method=quantized_distillation", "bits=4 method=post_training"],
            plan.Runs.Take(3).Select(r => r.Name));
    }

    [Fact]
    public void The_documented_axes_read()
    {
        var axes = AxisLine().Matches(Doc()).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(4, axes.Count);
        Assert.All(axes, a => Assert.Null(SweepAxis.Parse(a).Error));
    }

    [Fact]
    public void Every_sweepable_field_is_listed_with_what_it_takes()
    {
        var doc = Doc();
        var table = doc[doc.IndexOf("## Sweepable fields", StringComparison.Ordinal)..];
        var rows = FieldRow().Matches(table).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(SweepFields.All.Select(f => (f.Path, f.Takes)), rows);
    }
}
