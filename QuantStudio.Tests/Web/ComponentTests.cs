using Bunit;
using QuantStudio.Core.Experiments;
using QuantStudio.Web.Components.Panels;
using QuantStudio.Web.Forms;
using QuantStudio.Web.Runs;

namespace QuantStudio.Tests.Web;

public sealed class ComponentTests : StudioComponentContext
{
    private static RunRecord Run(long id, RunStatus status, double? acc = null, double? packed = null, string name = "run") =>
        new(id, $"{name} {id}", status, SpecJson.Write(new ExperimentSpec()), Methods.QuantizedDistillation, "shapes", 4,
            DateTimeOffset.UnixEpoch.AddMinutes(id), null, null,
            new Dictionary<string, double>(new[] { ("val_accuracy", acc), ("packed_bytes", packed), ("compression_ratio", packed is null ? null : 4000 / packed) }
                .Where(p => p.Item2 is not null).Select(p => KeyValuePair.Create(p.Item1, p.Item2!.Value))),
            null, false);

    [Theory]
    [InlineData(Methods.FullPrecision, new string[] { }, new[] { "teacher", "quantization", "distillation", "qkd", "dq", "activations" })]
    [InlineData(Methods.PostTraining, new[] { "quantization" }, new[] { "teacher", "distillation", "qkd", "dq" })]
    [InlineData(Methods.QuantizedDistillation, new[] { "teacher", "quantization", "distillation" }, new[] { "qkd", "dq", "activations" })]
    [InlineData(Methods.DifferentiableQuantization, new[] { "teacher", "quantization", "distillation", "dq" }, new[] { "qkd", "activations" })]
    [InlineData(Methods.Qkd, new[] { "teacher", "quantization", "distillation", "qkd", "activations" }, new[] { "dq" })]
    [InlineData(Methods.Qat, new[] { "quantization", "activations" }, new[] { "teacher", "distillation", "qkd" })]
    public void The_form_shows_only_the_sections_of_the_method(string method, string[] shown, string[] hidden)
    {
        var cut = Render<ExperimentFormFields>(p => p.Add(x => x.Form, new NewExperimentForm { Method = method }));
        foreach (var s in shown)
            Assert.False(cut.Find($"[data-section='{s}']").HasAttribute("hidden"), $"{s} should show for {method}");
        foreach (var s in hidden)
            Assert.True(cut.Find($"[data-section='{s}']").HasAttribute("hidden"), $"{s} should be hidden for {method}");
        Assert.Equal(method, cut.Find("#field-method option[selected]").GetAttribute("value"));
    }

    [Fact]
    public void A_new_QKD_form_starts_from_the_specs_phase_split()
    {
        Assert.Equal(new QkdSpec(), new NewExperimentForm { Method = Methods.Qkd }.ToSpec().Qkd);
    }

    [Fact]
    public void The_form_shows_validation_messages_next_to_their_fields()
    {
        var errors = new Dictionary<string, string[]>
        {
            ["quantization.bits"] = ["12 is out of range; allowed: 1 to 8"],
            ["student.arch"] = ["unknown model 'x'"],
        };
        var cut = Render<ExperimentFormFields>(p => p.Add(x => x.Form, new NewExperimentForm { Bits = 12 }).Add(x => x.Errors, errors));
        var bitsError = cut.Find("#error-quantization-bits");
        Assert.Contains("1 to 8", bitsError.TextContent);
        // Next to the field: in the same section, right after the input's label.
        Assert.Equal("section-quantization", bitsError.Closest("fieldset")!.Id);
        Assert.Equal("field-bits", bitsError.PreviousElementSibling!.QuerySelector("input")!.Id);
        Assert.Contains("unknown model", cut.Find("#error-student-arch").TextContent);
        Assert.Empty(cut.FindAll("#error-optimizer-lr"));
        Assert.Equal("12", cut.Find("#field-bits").GetAttribute("value"));
    }

    [Fact]
    public void The_teacher_source_shows_its_inputs()
    {
        var runs = new[] { Run(3, RunStatus.Finished) };
        var cut = Render<ExperimentFormFields>(p => p
            .Add(x => x.Form, new NewExperimentForm { TeacherSource = NewExperimentForm.TeacherFromRun, TeacherRunId = 3 })
            .Add(x => x.TeacherRuns, runs));
        Assert.False(cut.Find("[data-teacher-source='run']").HasAttribute("hidden"));
        Assert.True(cut.Find("[data-teacher-source='upload']").HasAttribute("hidden"));
        Assert.Equal("3", cut.Find("#field-teacher-run option[selected]").GetAttribute("value"));
    }

    [Fact]
    public void The_runs_table_lists_status_metrics_and_compare_boxes()
    {
        var runs = new[] { Run(2, RunStatus.Running), Run(1, RunStatus.Finished, acc: 0.913, packed: 1500) };
        var cut = Render<RunsTable>(p => p.Add(x => x.Runs, runs).Add(x => x.Sort, "accuracy").Add(x => x.Descending, true));
        var row = cut.Find("#run-row-1");
        Assert.Equal("finished", row.QuerySelector("[data-field=status]")!.TextContent.Trim());
        Assert.Equal("91.3%", row.QuerySelector("[data-field=accuracy]")!.TextContent);
        Assert.Equal("1.50 kB", row.QuerySelector("[data-field=packed]")!.TextContent);
        Assert.Equal("2.7×", row.QuerySelector("[data-field=ratio]")!.TextContent);
        Assert.Equal("running", cut.Find("#run-row-2 [data-field=status]").TextContent.Trim());
        Assert.Equal(2, cut.FindAll("input[type=checkbox][name=ids]").Count);
        Assert.Contains("↓", cut.Find("th button.sorted").TextContent);
    }

    [Fact]
    public void The_runs_table_reports_header_clicks_and_checkbox_clicks()
    {
        var sorted = new List<string>();
        var toggled = new List<long>();
        var runs = new[] { Run(2, RunStatus.Running), Run(1, RunStatus.Finished, acc: 0.913, packed: 1500) };
        var cut = Render<RunsTable>(p => p.Add(x => x.Runs, runs).Add(x => x.OnSort, k => sorted.Add(k)).Add(x => x.OnToggle, id => toggled.Add(id)));
        cut.Find("#sort-packed").Click();
        cut.Find("#compare-1").Change(true);
        Assert.Equal(["packed"], sorted);
        Assert.Equal([1L], toggled);
    }

    [Fact]
    public void The_runs_table_sorts_by_a_query_column()
    {
        var runs = new[] { Run(1, RunStatus.Finished, acc: 0.5), Run(2, RunStatus.Finished, acc: 0.9), Run(3, RunStatus.Finished) };
        Assert.Equal([2L, 1L, 3L], RunsTable.Order(runs, "accuracy", descending: true).Select(r => r.Id));
        Assert.Equal([3L, 1L, 2L], RunsTable.Order(runs, "accuracy", descending: false).Select(r => r.Id));
        Assert.Equal([3L, 2L, 1L], RunsTable.Order(runs, "bogus", descending: true).Select(r => r.Id));
    }

    [Fact]
    public void The_compression_panel_shows_sizes_ratio_and_layers()
    {
        var report = new CompressionReport(4_000_000, 500_000, 400_000, 8.0, 4.2,
            [new LayerCompression("conv1.weight", 1000, 4, 256, 4000, 520, 400, 3.2), new LayerCompression("fc.weight", 5000, 4, 256, 20000, 2600, 2000, 3.1)]);
        var cut = Render<CompressionPanel>(p => p.Add(x => x.Report, report));
        Assert.Equal("4.00 MB", cut.Find("#compression-fp32").TextContent);
        Assert.Equal("500.00 kB", cut.Find("#compression-packed").TextContent);
        Assert.Equal("400.00 kB", cut.Find("#compression-huffman").TextContent);
        Assert.Equal("8.0×", cut.Find("#compression-ratio").TextContent);
        Assert.Equal("4.20", cut.Find("#compression-bpw").TextContent);
        Assert.Equal(2, cut.FindAll("#compression-layers tbody tr").Count);

        var empty = Render<CompressionPanel>();
        Assert.NotNull(empty.Find("#compression-empty"));
    }

    [Fact]
    public void The_layer_panel_has_a_selector_and_the_selected_layers_numbers()
    {
        LayerSnapshot Snap(string layer, int bits) => new("train", 2, layer, [16, 8], bits, 256, [-1, 0, 1], [3, 5], [-0.5, 0.5], new ScaleStats(0.1, 0.2, 0.3));
        var cut = Render<LayerPanel>(p => p.Add(x => x.Layers, [Snap("conv1.weight", 4), Snap("fc.weight", 2)]).Add(x => x.SelectedLayer, "fc.weight"));
        Assert.Equal(["conv1.weight", "fc.weight"], cut.FindAll("#layer-select option").Select(o => o.GetAttribute("value")));
        Assert.Equal("fc.weight", cut.Find("#layer-select option[selected]").GetAttribute("value"));
        Assert.Equal("2", cut.Find("#layer-bits").TextContent);
        Assert.Equal("16×8", cut.Find("#layer-shape").TextContent);
        Assert.Equal("2", cut.Find("#layer-levels").TextContent);
        Assert.Equal("train, epoch 2", cut.Find("#layer-snapshot").TextContent);
        Assert.NotNull(cut.Find("#chart-histogram"));

        var final = Render<LayerPanel>(p => p.Add(x => x.Layers, [Snap("conv1.weight", 4) with { Phase = "final" }]));
        Assert.Equal("after training", final.Find("#layer-snapshot").TextContent);
    }

    [Fact]
    public void The_log_spec_and_action_panels_render()
    {
        var log = Render<LogPanel>(p => p.Add(x => x.Lines, [RunLogLine.Of(new LogMessage("Warning", "lr reduced") { Seq = 4 })!]));
        Assert.Equal("log-warning", log.Find("#log li").ClassName);
        Assert.Contains("lr reduced", log.Find("#log li").TextContent);

        var spec = new ExperimentSpec { Method = Methods.Qkd, Teacher = new TeacherSpec() };
        var specPanel = Render<SpecPanel>(p => p.Add(x => x.Spec, spec).Add(x => x.Json, SpecJson.Write(spec)));
        Assert.Contains("QKD", specPanel.Find("#spec-method").TextContent);
        Assert.Contains("\"method\": \"qkd\"", specPanel.Find("#spec-json").TextContent);

        var running = Render<RunActions>(p => p.Add(x => x.Status, RunStatus.Running));
        Assert.NotNull(running.Find("#action-cancel"));
        Assert.Empty(running.FindAll("#action-delete"));
        var interrupted = Render<RunActions>(p => p.Add(x => x.Status, RunStatus.Interrupted));
        Assert.NotNull(interrupted.Find("#action-resume"));
        Assert.NotNull(interrupted.Find("#action-delete"));
        Assert.Empty(interrupted.FindAll("#action-cancel"));

        // Delete asks first; only the confirmation deletes.
        var deletes = 0;
        var finished = Render<RunActions>(p => p.Add(x => x.Status, RunStatus.Finished).Add(x => x.OnDelete, () => deletes++));
        finished.Find("#action-delete").Click();
        Assert.Contains("Delete this run", finished.Find("#delete-confirm").TextContent);
        Assert.Equal(0, deletes);
        finished.Find("#action-delete-keep").Click();
        Assert.Empty(finished.FindAll("#delete-confirm"));
        finished.Find("#action-delete").Click();
        finished.Find("#action-delete-confirm").Click();
        Assert.Equal(1, deletes);
    }

    [Fact]
    public void The_log_has_a_line_for_each_milestone_of_a_run_and_none_for_its_steps()
    {
        RunEvent[] events =
        [
            new RunStarted(Methods.QuantizedDistillation, "shapes", "cifar-teacher", "cifar-student-3", 4, 1_339_705, 111_285, "fp32", 2, "{}"),
            new PhaseStarted("teacher", 0, 3),
            new StepMetrics("teacher", 1, 2, 2.3, new Dictionary<string, double>(), 0.05, 1000),
            new EpochMetrics("teacher", 1, 1.5, 0.4, 1.2, 0.5, null, 0.04, 6.25),
            new CheckpointSaved("training", "/data/runs/1/checkpoint.safetensors", 1, 448_600),
            new CheckpointSaved("model", "/data/runs/1/model.qsc", 3, 79_831),
            new RunFinished(new Dictionary<string, double> { ["wall_seconds"] = 19.85, ["student_accuracy"] = 0.733, ["teacher_accuracy"] = 0.8735 }),
            new RunFailed("the loss became NaN"),
        ];
        var lines = events.Select(RunLogLine.Of).ToList();
        Assert.Equal("started quantized_distillation on shapes, teacher cifar-teacher (1,339,705 parameters), student cifar-student-3 (111,285 parameters), 4 bits, fp32, 2 threads",
            lines[0]!.Text);
        Assert.Equal("phase teacher: 3 epochs", lines[1]!.Text);
        Assert.Null(lines[2]);
        Assert.Equal("teacher epoch 1: train loss 1.500, val loss 1.200, val accuracy 50.0% (6.3 s)", lines[3]!.Text);
        Assert.Null(lines[4]);
        Assert.Equal("saved model.qsc (79.83 kB)", lines[5]!.Text);
        Assert.Equal("finished in 19.9 s: student accuracy 73.3% (teacher 87.4%)", lines[6]!.Text);
        Assert.Equal(("error", "the loss became NaN"), (lines[7]!.Level, lines[7]!.Text));

        var panel = Render<LogPanel>(p => p.Add(x => x.Lines, lines.OfType<RunLogLine>().ToList()));
        Assert.Equal(6, panel.FindAll("#log li").Count);
    }

    [Fact]
    public void The_result_panel_shows_a_finished_runs_accuracies_size_and_time_and_nothing_before()
    {
        var summary = new Dictionary<string, double>
        {
            ["student_accuracy"] = 0.733, ["student_checkpoint_accuracy"] = 0.733, ["teacher_accuracy"] = 0.8735, ["qsc_bytes"] = 79_831,
            ["student_params"] = 111_285, ["teacher_params"] = 1_339_705, ["student_latency_ms_batch1"] = 0.4634, ["teacher_latency_ms_batch1"] = 1.1257,
            ["wall_seconds"] = 125.2, ["train_samples_per_s"] = 1963.6,
        };
        var cut = Render<ResultPanel>(p => p.Add(x => x.Summary, summary));
        Assert.Equal("73.3%", cut.Find("#result-student-accuracy").TextContent);
        Assert.Equal("73.3%", cut.Find("#result-checkpoint-accuracy").TextContent);
        Assert.Equal("87.4%", cut.Find("#result-teacher-accuracy").TextContent);
        Assert.Equal("79.83 kB", cut.Find("#result-qsc").TextContent);
        Assert.Equal("111,285 · teacher 1,339,705", cut.Find("#result-params").TextContent);
        Assert.Equal("0.46 ms · teacher 1.13 ms", cut.Find("#result-latency").TextContent);
        Assert.Equal("2 min 05 s", cut.Find("#result-wall").TextContent);
        Assert.Equal("1,964 samples/s", cut.Find("#result-throughput").TextContent);

        var training = Render<ResultPanel>(p => p.Add(x => x.Summary, new Dictionary<string, double> { ["val_accuracy"] = 0.5 }));
        Assert.Empty(training.FindAll("#result-panel"));
    }

    [Fact]
    public void The_result_panel_shows_the_onnx_export_when_the_run_made_one()
    {
        var summary = new Dictionary<string, double>
        {
            ["student_accuracy"] = 0.9445, ["qsc_bytes"] = 11_548, ["onnx_accuracy"] = 0.9445, ["onnx_bytes"] = 13_136,
            ["student_onnx_latency_ms_batch1"] = 0.26, ["teacher_onnx_latency_ms_batch1"] = 14.75,
        };
        var cut = Render<ResultPanel>(p => p.Add(x => x.Summary, summary));
        Assert.Equal("13.14 kB · 94.5% in ONNX Runtime", cut.Find("#result-onnx").TextContent);
        Assert.Equal("0.26 ms · teacher 14.75 ms", cut.Find("#result-onnx-latency").TextContent);

        var without = Render<ResultPanel>(p => p.Add(x => x.Summary, new Dictionary<string, double> { ["student_accuracy"] = 0.9 }));
        Assert.Empty(without.FindAll("#result-onnx"));
    }

    [Fact]
    public void The_estimate_panel_shows_the_warning_when_full_precision_layers_dominate()
    {
        var warned = Render<EstimatePanel>(p => p.Add(x => x.Estimate,
            new QuantStudio.Web.Estimation.CompressionEstimate(855_050, 3_420_200, 3_192_872, 1.07, 4, 800_000, "the first and last layers hold 99 % of the size")));
        Assert.Equal("the first and last layers hold 99 % of the size", warned.Find("#estimate-warning").TextContent);
        var plain = Render<EstimatePanel>(p => p.Add(x => x.Estimate, new QuantStudio.Web.Estimation.CompressionEstimate(1000, 4000, 600, 6.67, 4)));
        Assert.Empty(plain.FindAll("#estimate-warning"));
    }
}
