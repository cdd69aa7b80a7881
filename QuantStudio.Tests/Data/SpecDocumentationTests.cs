using System.Text.RegularExpressions;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

/// <summary>The documented examples and names must stay valid as the code changes.</summary>
public partial class SpecDocumentationTests
{
    private static string Docs(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", file);
            if (File.Exists(path))
                return File.ReadAllText(path);
        }
        throw new FileNotFoundException($"docs/{file} not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    [Fact]
    public void Every_example_in_the_spec_documentation_parses_and_validates()
    {
        var blocks = JsonBlock().Matches(Docs("experiment-spec.md")).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(8, blocks.Count);
        var specs = blocks.Select(SpecJson.Parse).ToList();
        Assert.Equal(Methods.All.Order(), specs.Select(s => s.Method).Distinct().Order());
        Assert.Contains(specs, s => s.Student.Arch == "char-lstm");
    }

    [Fact]
    public void Every_spec_field_is_documented()
    {
        var doc = Docs("experiment-spec.md");
        var json = SpecJson.Write(new ExperimentSpec
        {
            Name = "x",
            Dataset = new DatasetSpec { Root = "r", Subset = 1 },
            Teacher = new TeacherSpec { Checkpoint = "c", Train = new OptimizerSpec() },
            Quantization = new QuantizationSpec { ActivationBits = 4 },
        });
        foreach (Match m in Regex.Matches(json, "\"([a-z_]+)\":"))
            Assert.Contains($"`{m.Groups[1].Value}", doc.Replace("`dataset.", "`").Replace("`teacher.", "`").Replace("`student.", "`")
                .Replace("`quantization.", "`").Replace("`distillation.", "`").Replace("`qkd.", "`"));
    }

    [Fact]
    public void The_catalog_and_the_dataset_documentation_list_the_registry_names()
    {
        var doc = Docs("datasets.md");
        Assert.Equal(DatasetRegistry.Names, ExperimentCatalog.Datasets);
        foreach (var name in DatasetRegistry.Names)
            Assert.Contains($"| `{name}` |", doc);
        Assert.Contains($"{SyntheticTextGenerator.Alphabet.Length} characters", doc);
        foreach (var file in DatasetRegistry.All.SelectMany(s => s.Downloads))
            Assert.Contains(file.Sha256, doc);
    }
}
