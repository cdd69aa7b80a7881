namespace QuantStudio.Core.Experiments;

/// <summary>Checks a spec against the allowed values; every error names the field and the allowed range.</summary>
public static class SpecValidator
{
    public static IReadOnlyList<SpecError> Validate(ExperimentSpec spec)
    {
        var errors = new List<SpecError>();
        void Check(bool ok, string field, string message)
        {
            if (!ok)
                errors.Add(new SpecError(field, message));
        }

        Check(Methods.All.Contains(spec.Method), "method", $"unknown method '{spec.Method}'; allowed: {string.Join(", ", Methods.All)}");
        Check(ExperimentCatalog.Datasets.Contains(spec.Dataset.Name), "dataset.name",
            $"unknown dataset '{spec.Dataset.Name}'; allowed: {string.Join(", ", ExperimentCatalog.Datasets)}");
        Check(spec.Dataset.ValidationSplit is >= 0 and <= 0.5, "dataset.validation_split", "must be between 0 and 0.5");
        Check(spec.Dataset.Subset is null or >= 1, "dataset.subset", "must be at least 1 (or null for all examples)");

        Check(ExperimentCatalog.IsKnownModel(spec.Student.Arch), "student.arch",
            $"unknown model '{spec.Student.Arch}'; allowed: {string.Join(", ", ExperimentCatalog.Models)}");
        Check(spec.Student.Width is > 0 and <= Models.ModelScaling.MaxMultiplier, "student.width", "must be in (0, 8]");
        Check(spec.Student.Depth is > 0 and <= Models.ModelScaling.MaxMultiplier, "student.depth", "must be in (0, 8]");

        if (Methods.UsesTeacher(spec.Method))
            Check(spec.Teacher is not null, "teacher", $"method '{spec.Method}' learns from a teacher: give teacher.arch (and a checkpoint, or it is trained first)");
        if (spec.Teacher is { } t)
        {
            Check(ExperimentCatalog.IsKnownModel(t.Arch), "teacher.arch",
                $"unknown model '{t.Arch}'; allowed: {string.Join(", ", ExperimentCatalog.Models)}");
            Check(t.Width is > 0 and <= Models.ModelScaling.MaxMultiplier, "teacher.width", "must be in (0, 8]");
            if (t.Train is { } tt)
                CheckOptimizer(tt, "teacher.train", Check);
        }

        var q = spec.Quantization;
        if (Methods.Quantizes(spec.Method))
        {
            Check(q.Bits is >= 1 and <= 8, "quantization.bits", $"{q.Bits} is out of range; allowed: 1 to 8");
            Check(q.BucketSize is null or >= 1, "quantization.bucket_size", "must be at least 1 (or null for one bucket per tensor)");
            Check(q.Scheme is "uniform" or "absmax", "quantization.scheme", $"unknown scheme '{q.Scheme}'; allowed: uniform, absmax");
            Check(q.Rounding is "deterministic" or "stochastic", "quantization.rounding", $"unknown rounding '{q.Rounding}'; allowed: deterministic, stochastic");
            Check(q.ActivationBits is null or (>= 2 and <= 8), "quantization.activation_bits", "must be 2 to 8 (or null for full-precision activations)");
            Check(q.PointInit is "quantile" or "uniform", "quantization.point_init", $"unknown point init '{q.PointInit}'; allowed: quantile, uniform");
            if (q.Scheme == "absmax")
                Check(q.Bits >= 2, "quantization.bits", "the absmax scheme needs at least 2 bits (one is the sign)");
        }

        var d = spec.Distillation;
        Check(d.Temperature is > 0 and <= 100, "distillation.temperature", "must be in (0, 100]");
        Check(d.Alpha is >= 0 and <= 1, "distillation.alpha", "must be between 0 and 1");

        if (spec.Method == Methods.Qkd)
        {
            Check(spec.Qkd.SelfStudyingEpochs >= 0, "qkd.self_studying_epochs", "must be 0 or more");
            Check(spec.Qkd.CoStudyingEpochs >= 0, "qkd.co_studying_epochs", "must be 0 or more");
            Check(spec.Qkd.TutoringEpochs >= 0, "qkd.tutoring_epochs", "must be 0 or more");
            Check(spec.Qkd.SelfStudyingEpochs + spec.Qkd.CoStudyingEpochs + spec.Qkd.TutoringEpochs >= 1, "qkd",
                "at least one phase needs one epoch or more");
        }

        CheckOptimizer(spec.Optimizer, "optimizer", Check);
        Check(spec.Precision is "fp32" or "bf16" or "auto", "precision", $"unknown precision '{spec.Precision}'; allowed: fp32, bf16, auto");
        return errors;
    }

    private static void CheckOptimizer(OptimizerSpec o, string prefix, Action<bool, string, string> check)
    {
        check(o.Name is "sgd" or "adam" or "adamw", prefix + ".name", $"unknown optimizer '{o.Name}'; allowed: sgd, adam, adamw");
        check(o.Lr is > 0 and <= 10, prefix + ".lr", "must be in (0, 10]");
        check(o.Momentum is >= 0 and < 1, prefix + ".momentum", "must be in [0, 1)");
        check(o.WeightDecay is >= 0 and < 1, prefix + ".weight_decay", "must be in [0, 1)");
        check(o.Schedule is "constant" or "step" or "multistep" or "cosine", prefix + ".schedule",
            $"unknown schedule '{o.Schedule}'; allowed: constant, step, multistep, cosine");
        // Judged against a valid epoch count only: a negative one is reported once, under epochs.
        check(o.Epochs is < 0 or > 10_000 || o.WarmupEpochs is null || (o.WarmupEpochs >= 0 && o.WarmupEpochs <= o.Epochs), prefix + ".warmup_epochs",
            "must be between 0 and the number of epochs");
        check(o.Epochs is >= 0 and <= 10_000, prefix + ".epochs", "must be between 0 and 10000");
        check(o.BatchSize is >= 1 and <= 65_536, prefix + ".batch_size", "must be between 1 and 65536");
        check(!o.Nesterov || o.Momentum > 0 || o.Name != "sgd", prefix + ".nesterov", "Nesterov momentum needs momentum > 0");
    }
}
