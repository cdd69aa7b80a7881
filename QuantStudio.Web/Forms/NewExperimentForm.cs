using QuantStudio.Core.Experiments;
using QuantStudio.Web.Runs;

namespace QuantStudio.Web.Forms;

/// <summary>
/// The New experiment form as flat fields (what a plain HTML form posts), converted to and from an
/// <see cref="ExperimentSpec"/>. Field names in the HTML are <c>Form.&lt;Property&gt;</c>.
/// </summary>
public sealed class NewExperimentForm
{
    public const string TeacherTrain = "train";
    public const string TeacherFromRun = "run";
    public const string TeacherUpload = "upload";

    public string? Name { get; set; }
    public long Seed { get; set; } = 1;

    public string Dataset { get; set; } = "shapes";
    public string? DatasetRoot { get; set; }
    public bool Download { get; set; }
    public int? Subset { get; set; }

    public string TeacherSource { get; set; } = TeacherTrain;
    public string TeacherArch { get; set; } = "cifar-teacher";
    public double TeacherWidth { get; set; } = 1.0;
    public long? TeacherRunId { get; set; }
    public string? TeacherCheckpoint { get; set; }

    public string Student { get; set; } = "cifar-student-1";
    public double StudentWidth { get; set; } = 1.0;
    public double StudentDepth { get; set; } = 1.0;

    public string Method { get; set; } = Methods.QuantizedDistillation;

    public int Bits { get; set; } = 4;
    public int? BucketSize { get; set; } = 256;
    public string Scheme { get; set; } = "uniform";
    public bool QuantizeFirstLast { get; set; }
    public int? ActivationBits { get; set; }
    public string PointInit { get; set; } = "quantile";
    public bool BitAllocation { get; set; }

    public double Temperature { get; set; } = 2.0;
    public double Alpha { get; set; } = 0.7;

    private static readonly QkdSpec QkdDefaults = new();
    public int SelfStudyingEpochs { get; set; } = QkdDefaults.SelfStudyingEpochs;
    public int CoStudyingEpochs { get; set; } = QkdDefaults.CoStudyingEpochs;
    public int TutoringEpochs { get; set; } = QkdDefaults.TutoringEpochs;

    public string Optimizer { get; set; } = "sgd";
    public double Lr { get; set; } = 0.05;
    public int Epochs { get; set; } = 3;
    public int BatchSize { get; set; } = 64;

    /// <summary>The spec this form describes; a teacher is named (an upload's name, or run:&lt;id&gt;), never a path.</summary>
    public ExperimentSpec ToSpec()
    {
        TeacherSpec? teacher = null;
        if (Methods.UsesTeacher(Method))
        {
            var checkpoint = TeacherSource switch
            {
                TeacherFromRun when TeacherRunId is { } id => RunInputs.RunTeacher(id),
                TeacherUpload => string.IsNullOrWhiteSpace(TeacherCheckpoint) ? null : TeacherCheckpoint.Trim(),
                _ => null,
            };
            teacher = new TeacherSpec { Arch = TeacherArch, Width = TeacherWidth, Checkpoint = checkpoint };
        }
        return new ExperimentSpec
        {
            Name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
            Seed = Seed,
            Dataset = new DatasetSpec
            {
                Name = Dataset,
                Root = string.IsNullOrWhiteSpace(DatasetRoot) ? null : DatasetRoot.Trim(),
                Download = Download,
                Subset = Subset,
            },
            Teacher = teacher,
            Student = new StudentSpec { Arch = Student, Width = StudentWidth, Depth = StudentDepth },
            Method = Method,
            Quantization = new QuantizationSpec
            {
                Bits = Bits,
                BucketSize = BucketSize is > 0 ? BucketSize : null,
                Scheme = Scheme,
                QuantizeFirstLast = QuantizeFirstLast,
                ActivationBits = ActivationBits,
                PointInit = PointInit,
                BitAllocation = BitAllocation,
            },
            Distillation = new DistillationSpec { Temperature = Temperature, Alpha = Alpha },
            Qkd = new QkdSpec { SelfStudyingEpochs = SelfStudyingEpochs, CoStudyingEpochs = CoStudyingEpochs, TutoringEpochs = TutoringEpochs },
            Optimizer = new OptimizerSpec { Name = Optimizer, Lr = Lr, Epochs = Epochs, BatchSize = BatchSize },
        };
    }

    public static NewExperimentForm FromSpec(ExperimentSpec s) => new()
    {
        Name = s.Name,
        Seed = s.Seed,
        Dataset = s.Dataset.Name,
        DatasetRoot = s.Dataset.Root,
        Download = s.Dataset.Download,
        Subset = s.Dataset.Subset,
        TeacherSource = s.Teacher?.Checkpoint switch
        {
            null => TeacherTrain,
            var c when c.StartsWith(RunInputs.RunTeacherPrefix, StringComparison.Ordinal) => TeacherFromRun,
            _ => TeacherUpload,
        },
        TeacherRunId = s.Teacher?.Checkpoint is { } r && r.StartsWith(RunInputs.RunTeacherPrefix, StringComparison.Ordinal) &&
                       long.TryParse(r.AsSpan(RunInputs.RunTeacherPrefix.Length), System.Globalization.NumberStyles.None,
                           System.Globalization.CultureInfo.InvariantCulture, out var runId) ? runId : null,
        TeacherArch = s.Teacher?.Arch ?? "cifar-teacher",
        TeacherWidth = s.Teacher?.Width ?? 1.0,
        TeacherCheckpoint = s.Teacher?.Checkpoint is { } u && !u.StartsWith(RunInputs.RunTeacherPrefix, StringComparison.Ordinal) ? u : null,
        Student = s.Student.Arch,
        StudentWidth = s.Student.Width,
        StudentDepth = s.Student.Depth,
        Method = s.Method,
        Bits = s.Quantization.Bits,
        BucketSize = s.Quantization.BucketSize,
        Scheme = s.Quantization.Scheme,
        QuantizeFirstLast = s.Quantization.QuantizeFirstLast,
        ActivationBits = s.Quantization.ActivationBits,
        PointInit = s.Quantization.PointInit,
        BitAllocation = s.Quantization.BitAllocation,
        Temperature = s.Distillation.Temperature,
        Alpha = s.Distillation.Alpha,
        SelfStudyingEpochs = s.Qkd.SelfStudyingEpochs,
        CoStudyingEpochs = s.Qkd.CoStudyingEpochs,
        TutoringEpochs = s.Qkd.TutoringEpochs,
        Optimizer = s.Optimizer.Name,
        Lr = s.Optimizer.Lr,
        Epochs = s.Optimizer.Epochs,
        BatchSize = s.Optimizer.BatchSize,
    };
}
