using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training;

namespace QuantStudio.Tests.Training;

/// <summary>What a run's summary and log tell a user about settings that undo what they asked for.</summary>
[Collection(TrainingCollection.Name)]
public sealed class RunSummaryNoticesTests
{
    private static ExperimentSpec MlpPostTraining(bool quantizeFirstLast) => TrainingRuns.Spec(Methods.PostTraining) with
    {
        Teacher = null,
        Student = new StudentSpec { Arch = "mlp" },
        Dataset = new DatasetSpec { Name = "shapes", ValidationSplit = 0.2, Subset = 64 },
        Quantization = new QuantizationSpec { Bits = 4, BucketSize = 256, QuantizeFirstLast = quantizeFirstLast },
        ChannelsLast = false,
    };

    private static (RunSummary Summary, IReadOnlyList<RunEvent> Events) Run(ExperimentSpec spec)
    {
        var dir = TrainingRuns.NewDirectory();
        var events = TrainingRuns.Run(spec, dir);
        return (RunSummary.Read(Path.Combine(dir, ExperimentRunner.SummaryFileName)), events);
    }

    [Fact]
    public void When_layers_left_in_full_precision_dominate_the_summary_and_the_log_say_so_and_suggest_quantize_first_last()
    {
        var (kept, keptEvents) = Run(MlpPostTraining(quantizeFirstLast: false));
        var (all, allEvents) = Run(MlpPostTraining(quantizeFirstLast: true));

        Assert.True(kept.CompressionRatio < 1.5, $"ratio {kept.CompressionRatio}");
        Assert.True(all.CompressionRatio > 5, $"ratio {all.CompressionRatio}");
        var warning = Assert.Single(kept.Warnings);
        Assert.Contains("quantize_first_last: true", warning);
        Assert.Contains("full precision", warning);
        Assert.Contains(keptEvents, e => e is LogMessage { Level: "warning" } l && l.Message == warning);

        Assert.Empty(all.Warnings);
        Assert.DoesNotContain(allEvents, e => e is LogMessage { Level: "warning" });
    }

    [Theory]
    [InlineData(Methods.Qat)]
    [InlineData(Methods.Qkd)]
    public void Learned_step_methods_report_no_bucket_size(string method)
    {
        var spec = TrainingRuns.Spec(method) with
        {
            Dataset = new DatasetSpec { Name = "shapes", ValidationSplit = 0.2, Subset = 64 },
            Qkd = new QkdSpec { SelfStudyingEpochs = 0, CoStudyingEpochs = 0, TutoringEpochs = 1 },
        };
        var (summary, events) = Run(spec);
        Assert.Null(summary.BucketSize);
        Assert.False(((RunFinished)events[^1]).Summary.ContainsKey("bucket_size"));
        Assert.Equal(4, summary.Bits);
    }

    [Fact]
    public void A_teacher_the_method_does_not_use_is_named_in_a_warning()
    {
        var spec = MlpPostTraining(quantizeFirstLast: true) with { Teacher = new TeacherSpec { Arch = "cifar-student-1", Width = 0.5 } };
        var (_, events) = Run(spec);
        Assert.Contains(events, e => e is LogMessage { Level: "warning" } l && l.Message.Contains("teacher") && l.Message.Contains("post_training"));
        Assert.DoesNotContain(events, e => e is CheckpointSaved { Kind: "teacher" });
    }
}
