using System.Text.Json;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Sweeps;

namespace QuantStudio.Tests.Sweeps;

public sealed class SweepExpansionTests
{
    private const string BaseSpec = """
        {
          "name": "base",
          "seed": 7,
          "method": "post_training",
          "student": { "arch": "lenet5-small" },
          "quantization": { "bits": 4, "bucket_size": 256 },
          "optimizer": { "epochs": 1, "lr": 0.02 },
          // comments are allowed, as in a spec file
        }
        """;

    private static SweepAxis Axis(string path, string valuesJson) =>
        new(path, JsonSerializer.Deserialize<JsonElement[]>(valuesJson)!);

    private static Task<SweepPlan> Expand(params SweepAxis[] axes) => SweepExpander.ExpandAsync(new SweepRequest(null, BaseSpec, axes));

    [Fact]
    public async Task Runs_are_the_cartesian_product_first_axis_outermost_named_by_their_values_with_each_value_in_its_field()
    {
        var plan = await Expand(Axis("quantization.bits", "[2, 4, 8]"), Axis("method", """["post_training", "qat"]"""));

        Assert.True(plan.IsValid, string.Join("; ", plan.Errors));
        Assert.Equal(
            ["bits=2 method=post_training", "bits=2 method=qat", "bits=4 method=post_training", "bits=4 method=qat",
             "bits=8 method=post_training", "bits=8 method=qat"],
            plan.Runs.Select(r => r.Name));
        Assert.Equal([2, 2, 4, 4, 8, 8], plan.Runs.Select(r => r.Spec.Quantization.Bits));
        Assert.Equal(["post_training", "qat", "post_training", "qat", "post_training", "qat"], plan.Runs.Select(r => r.Spec.Method));
        // Everything the axes do not set comes from the base spec; each run's spec carries its own name.
        Assert.All(plan.Runs, r =>
        {
            Assert.Equal(7, r.Spec.Seed);
            Assert.Equal("lenet5-small", r.Spec.Student.Arch);
            Assert.Equal(0.02, r.Spec.Optimizer.Lr);
            Assert.Equal(r.Name, r.Spec.Name);
        });
        Assert.Equal("base", plan.Name);
        Assert.Equal(6, SweepExpander.CountRuns(plan.Axes));
    }

    [Fact]
    public async Task Nested_nullable_and_wide_fields_are_set_and_a_missing_section_is_made()
    {
        var plan = await Expand(
            Axis("quantization.bucket_size", "[null, 64]"),
            Axis("teacher.arch", """["lenet5"]"""),
            Axis("seed", "[5000000000]"),
            Axis("student.arch", """["mlp"]"""));

        Assert.True(plan.IsValid, string.Join("; ", plan.Errors));
        Assert.Equal([null, 64], plan.Runs.Select(r => r.Spec.Quantization.BucketSize));
        Assert.All(plan.Runs, r => Assert.Equal("lenet5", r.Spec.Teacher!.Arch)); // the base spec has no teacher
        Assert.All(plan.Runs, r => Assert.Equal(5_000_000_000, r.Spec.Seed));
        // Two axes end in "arch": their whole paths tell them apart.
        Assert.Equal("bucket_size=null teacher.arch=lenet5 seed=5000000000 student.arch=mlp", plan.Runs[0].Name);
        // A value read back from a run's spec is the value the axis gave.
        Assert.Null(SweepExpander.ValueAt(plan.Runs[0].Spec, "quantization.bucket_size"));
        Assert.Equal(64, SweepExpander.ValueAt(plan.Runs[1].Spec, "quantization.bucket_size")!.Value.GetInt32());
        Assert.Equal("lenet5", SweepExpander.ValueAt(plan.Runs[1].Spec, "teacher.arch")!.Value.GetString());
    }

    [Fact]
    public void A_null_bucket_size_survives_the_spec_being_written_and_read_back()
    {
        // The default is 256: a null left out of the written spec would come back as 256.
        var spec = new ExperimentSpec { Method = Methods.PostTraining, Quantization = new QuantizationSpec { BucketSize = null } };
        Assert.Null(SpecJson.Parse(SpecJson.Write(spec)).Quantization.BucketSize);
        Assert.Equal(256, SpecJson.Parse(SpecJson.Write(new ExperimentSpec { Method = Methods.PostTraining })).Quantization.BucketSize);
    }

    [Theory]
    [InlineData("quantization.bitz", "axes[0].path", "did you mean quantization.bits")]
    [InlineData("bits", "axes[0].path", "did you mean quantization.bits")]
    [InlineData("quantization", "axes[0].path", "is a section, not a field")]
    [InlineData("name", "axes[0].path", "named after its axis values")]
    [InlineData("optimizer.flavour", "axes[0].path", "unknown field 'optimizer.flavour'")]
    public async Task An_unknown_path_is_named_with_the_nearest_fields(string path, string field, string fragment)
    {
        var plan = await Expand(Axis(path, "[1, 2]"));
        var error = Assert.Single(plan.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message);
        Assert.Empty(plan.Runs);
    }

    [Theory]
    [InlineData("quantization.bits", """[2, "two"]""", "axes[0].values[1]", "quantization.bits takes a whole number; \"two\" is not one")]
    [InlineData("quantization.bits", "[2.5]", "axes[0].values[0]", "quantization.bits takes a whole number; 2.5 is not one")]
    [InlineData("quantization.bits", "[null]", "axes[0].values[0]", "quantization.bits takes a whole number; null is not one")]
    [InlineData("method", "[4]", "axes[0].values[0]", "method takes a string; 4 is not one")]
    [InlineData("student.width", """[{"x": 1}]""", "axes[0].values[0]", "student.width takes a number, not an object")]
    [InlineData("quantization.bucket_size", """[64, [1]]""", "axes[0].values[1]", "quantization.bucket_size takes a whole number or null, not a list")]
    [InlineData("dataset.augment", """["yes"]""", "axes[0].values[0]", "dataset.augment takes true or false")]
    [InlineData("quantization.bits", "[2, 4, 2]", "axes[0].values[2]", "2 is given twice")]
    [InlineData("quantization.bits", "[]", "axes[0].values", "give one value or more")]
    public async Task A_value_of_the_wrong_type_is_named_by_its_axis_and_position(string path, string values, string field, string fragment)
    {
        var plan = await Expand(Axis(path, values));
        var error = Assert.Single(plan.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message);
        Assert.Empty(plan.Runs);
    }

    [Fact]
    public async Task The_same_field_on_two_axes_and_no_axis_at_all_are_refused()
    {
        var twice = await Expand(Axis("quantization.bits", "[2]"), Axis("quantization.bits", "[4]"));
        Assert.Equal("axes[1].path", Assert.Single(twice.Errors).Field);
        Assert.Contains("already axes[0]", twice.Errors[0].Message);

        var none = await Expand();
        Assert.Equal("axes", Assert.Single(none.Errors).Field);
    }

    [Fact]
    public async Task A_combination_that_fails_validation_is_named_with_its_values_and_the_reason_and_nothing_is_returned()
    {
        // 9 bits is out of range for a quantizing method, and ignored by full precision: only one combination fails.
        var plan = await Expand(Axis("quantization.bits", "[2, 9]"), Axis("method", """["post_training", "full_precision"]"""));

        Assert.False(plan.IsValid);
        Assert.Empty(plan.Runs);
        var error = Assert.Single(plan.Errors);
        Assert.Equal("axes[0]", error.Field);
        Assert.Equal("run \"bits=9 method=post_training\": quantization.bits: 9 is out of range; allowed: 1 to 8", error.Message);
    }

    [Fact]
    public async Task A_cross_field_failure_names_the_runs_it_hits_under_the_spec_field()
    {
        // Methods that learn from a teacher need one; the base spec has none.
        var plan = await Expand(Axis("quantization.bits", "[2, 4]"), Axis("method", """["post_training", "distillation"]"""));

        var error = Assert.Single(plan.Errors);
        Assert.Equal("spec.teacher", error.Field);
        Assert.StartsWith("runs \"bits=2 method=distillation\", \"bits=4 method=distillation\": teacher: method 'distillation' learns from a teacher",
            error.Message);
    }

    [Fact]
    public async Task A_problem_of_the_base_spec_is_reported_once_under_its_field()
    {
        var request = new SweepRequest(null, """{ "method": "post_training", "optimizer": { "lr": -1 } }""", [Axis("quantization.bits", "[2, 4, 8]")]);
        var plan = await SweepExpander.ExpandAsync(request);

        var error = Assert.Single(plan.Errors);
        Assert.Equal("spec.optimizer.lr", error.Field);
        Assert.Equal("must be in (0, 10] (in every run of the sweep)", error.Message);

        var unknown = await SweepExpander.ExpandAsync(new SweepRequest(null, """{ "mehtod": "qat" }""", [Axis("quantization.bits", "[2, 4]")]));
        Assert.Equal("spec.mehtod", Assert.Single(unknown.Errors).Field);

        var notAnObject = await SweepExpander.ExpandAsync(new SweepRequest(null, "[1]", [Axis("quantization.bits", "[2]")]));
        Assert.Equal("spec", Assert.Single(notAnObject.Errors).Field);
    }

    [Fact]
    public async Task A_host_check_runs_on_every_combination_and_its_problems_name_the_run()
    {
        var checkedArchs = new List<string>();
        Task<IReadOnlyList<SpecError>> Check(ExperimentSpec spec, CancellationToken ct)
        {
            checkedArchs.Add(spec.Student.Arch);
            IReadOnlyList<SpecError> errors = spec.Student.Arch == "mlp" ? [new SpecError("student.arch", "not on this server")] : [];
            return Task.FromResult(errors);
        }

        var request = new SweepRequest(null, BaseSpec, [Axis("student.arch", """["lenet5-small", "mlp"]""")]);
        var plan = await SweepExpander.ExpandAsync(request, check: Check);

        Assert.Equal(["lenet5-small", "mlp"], checkedArchs);
        var error = Assert.Single(plan.Errors);
        Assert.Equal("axes[0]", error.Field);
        Assert.Equal("run \"arch=mlp\": student.arch: not on this server", error.Message);
    }

    [Fact]
    public async Task More_runs_than_the_limit_is_one_clear_error_before_any_run_is_made()
    {
        var calls = 0;
        var request = new SweepRequest(null, BaseSpec, [Axis("quantization.bits", "[1, 2, 3]"), Axis("seed", "[1, 2, 3]")]);
        var plan = await SweepExpander.ExpandAsync(request, maxRuns: 8, check: (_, _) =>
        {
            calls++;
            return Task.FromResult<IReadOnlyList<SpecError>>([]);
        }, limitSetting: "--max-runs");

        var error = Assert.Single(plan.Errors);
        Assert.Equal("axes", error.Field);
        Assert.Equal("the sweep makes 9 runs (3 × 3 values); at most 8 are allowed (set by --max-runs)", error.Message);
        Assert.Equal(0, calls);
        Assert.True((await SweepExpander.ExpandAsync(request, maxRuns: 9)).IsValid);
    }

    [Theory]
    [InlineData("quantization.bits=2,4,8", "quantization.bits", "[2,4,8]")]
    [InlineData("method=post_training, qat", "method", """["post_training","qat"]""")]
    [InlineData("quantization.bucket_size=null,64", "quantization.bucket_size", "[null,64]")]
    [InlineData("student.width=0.5,1", "student.width", "[0.5,1]")]
    [InlineData("dataset.augment=true,false", "dataset.augment", "[true,false]")]
    [InlineData("student.arch=2", "student.arch", """["2"]""")]
    public void An_axis_typed_as_text_takes_the_field_s_kind(string text, string path, string valuesJson)
    {
        var (axis, error) = SweepAxis.Parse(text);
        Assert.Null(error);
        Assert.Equal(path, axis!.Path);
        Assert.Equal(valuesJson, JsonSerializer.Serialize(axis.Values));
    }

    [Theory]
    [InlineData("quantization.bits", "quantization.bits takes a whole number; 'x' is not one", "quantization.bits=2,x")]
    [InlineData("quantization.bits", "an empty value between commas", "quantization.bits=2,,4")]
    [InlineData("quantization.bits", "give one value or more", "quantization.bits=")]
    [InlineData("is not an axis", "path=value,value", "quantization.bits")]
    [InlineData("unknown field", "did you mean quantization.bits", "quantization.bitz=2")]
    public void A_bad_axis_text_says_what_is_wrong(string fragment1, string fragment2, string text)
    {
        var (axis, error) = SweepAxis.Parse(text);
        Assert.Null(axis);
        Assert.Contains(fragment1, error);
        Assert.Contains(fragment2, error);
    }

    [Fact]
    public void Axes_are_stored_as_json_and_read_back()
    {
        SweepAxis[] axes = [Axis("quantization.bits", "[2, 4]"), Axis("quantization.bucket_size", "[null]")];
        var json = SweepAxis.WriteAll(axes);
        Assert.Equal("""[{"path":"quantization.bits","values":[2,4]},{"path":"quantization.bucket_size","values":[null]}]""", json);
        var back = SweepAxis.ReadAll(json);
        Assert.Equal(["quantization.bits", "quantization.bucket_size"], back.Select(a => a.Path));
        Assert.Equal("[2,4]", JsonSerializer.Serialize(back[0].Values));
    }

    [Fact]
    public void Every_scalar_spec_field_but_the_name_is_sweepable_with_its_kind()
    {
        Assert.Equal(SweepValueKind.Integer, SweepFields.Find("quantization.bits")!.Kind);
        Assert.True(SweepFields.Find("quantization.bucket_size")!.Nullable);
        Assert.False(SweepFields.Find("quantization.bits")!.Nullable);
        Assert.True(SweepFields.Find("teacher.checkpoint")!.Nullable);
        Assert.False(SweepFields.Find("method")!.Nullable);
        Assert.True(SweepFields.Find("seed")!.Wide);
        Assert.Equal(SweepValueKind.Number, SweepFields.Find("teacher.train.lr")!.Kind);
        Assert.Null(SweepFields.Find("name"));
        Assert.Null(SweepFields.Find("quantization"));
        // Each field's path reads a default spec's value back, of the field's own kind (a teacher's fields read null: there is none).
        var spec = new ExperimentSpec();
        foreach (var f in SweepFields.All.Where(f => !f.Path.StartsWith("teacher.", StringComparison.Ordinal)))
        {
            var value = SweepExpander.ValueAt(spec, f.Path);
            if (value is { } v)
                Assert.Null(f.Check(v));
            else
                Assert.True(f.Nullable, $"{f.Path} read back no value");
        }
        Assert.Null(SweepExpander.ValueAt(spec, "teacher.arch"));
    }
}
