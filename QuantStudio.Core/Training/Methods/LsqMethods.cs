using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training.Optim;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>What QKD and its distillation-free baseline share: LSQ quantizers on the student, set up once from a calibration batch.</summary>
public abstract class LsqMethod : TrainingMethod
{
    protected LsqMethod(Module<Tensor, Tensor> student, ExperimentSpec spec)
    {
        StudentModel = student;
        Spec = spec;
        Quantizers = new LsqQuantizers(student, spec.Quantization);
        Quantizers.Install();
    }

    protected Module<Tensor, Tensor> StudentModel { get; }
    protected ExperimentSpec Spec { get; }
    protected LsqQuantizers Quantizers { get; }
    /// <summary>True once the steps have their LSQ initial values (restored from a checkpoint, or calibrated).</summary>
    protected bool Calibrated { get; private set; }

    public override Module<Tensor, Tensor> Student => StudentModel;

    public override void BeginPhase(int phase, PhaseContext context, bool resumed)
    {
        if (Calibrated)
            return;
        foreach (var batch in context.FirstTrainBatches(1))
        {
            using (batch)
            using (torch.NewDisposeScope())
                Quantizers.Calibrate(StudentModel, context.PrepareInput(batch.Input));
        }
        Calibrated = true;
    }

    protected Trainee QuantizedStudent() =>
        StudentTrainee(StudentModel, Spec.Optimizer with { WarmupEpochs = Spec.Optimizer.WarmupEpochs ?? DefaultWarmupEpochs }, Quantizers.Steps);

    /// <summary>
    /// The warm-up when the spec leaves it null: with activation bits, one epoch per eight of the student's epochs (none for
    /// shorter runs); without, none. At the peak learning rate from the first step, fresh activation quantizers sent QAT W4A4
    /// on cifar-student-3 from 37 % to 22 % validation in its second epoch on some seeds and it ended 10 points below QAT with
    /// weights only; one warm-up epoch of eight ended that (82.3 → 95.2 % and 82.7 → 94.05 %, docs/training.md).
    /// </summary>
    public int DefaultWarmupEpochs => Spec.Quantization.ActivationBits is null ? 0 : Phases.Sum(p => p.Epochs) / 8;

    /// <summary>
    /// The bound on the global gradient norm of each network (its weights and, for the student, its steps). Ordinary
    /// steps stay well below it (about 2 on cifar-student-3); it stops the run-away a phase start can set off: at the
    /// start of QKD's co-studying (learning rate back at its peak, cross-entropy plus distillation) the student's norm went
    /// 5.2, 14.8, 27.6 in three steps, the network's output went constant, and the teacher, pulled toward it, followed.
    /// </summary>
    public const double MaxGradientNorm = 5;

    public override void AfterBackward(int phase) =>
        GradientClipping.ClipByGlobalNorm(StudentModel.parameters().Cast<Tensor>().Concat(Quantizers.Steps), MaxGradientNorm);

    /// <summary>The student's step sizes (weights' and activations'), trained with it.</summary>
    public IEnumerable<Tensor> StepTensors() => Quantizers.Steps;

    public override void AfterStep(int phase) => Quantizers.AfterStep();

    public override StateDict State()
    {
        var s = Quantizers.State();
        s.Add("calibrated", torch.tensor(Calibrated ? 1L : 0L));
        return s;
    }

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        Quantizers.LoadState(state);
        Calibrated = state.TryGetValue("calibrated", out var c) && c.AsInt64() != 0;
    }

    public override IReadOnlyList<QuantizedWeightView> QuantizedWeights() => Quantizers.Views();

    public override IReadOnlyDictionary<string, TensorEncoding> Finish() => Quantizers.Encodings();

    public override Dictionary<string, Tensor> DequantizedWeights() => Quantizers.Dequantized();

    public override IReadOnlyList<ActivationQuantizer> ActivationQuantizers() => Quantizers.ActivationQuantizers();

    public override void Dispose()
    {
        Quantizers.Dispose();
        base.Dispose();
    }
}

/// <summary>Quantization-aware training with the LSQ quantizers and cross-entropy alone: the baseline that shows what distillation adds.</summary>
public sealed class QatMethod(Module<Tensor, Tensor> student, ExperimentSpec spec) : LsqMethod(student, spec)
{
    public override string Name => Methods.Qat;
    public override IReadOnlyList<TrainingPhase> Phases => [new("qat", Spec.Optimizer.Epochs)];
    public override IReadOnlyList<Trainee> Trainees(int phase) => [QuantizedStudent()];
    public override StepLoss Loss(int phase, Batch batch, Tensor input) => FullPrecisionMethod.TaskLoss(StudentModel, batch, input);
}

/// <summary>
/// QKD (Kim et al. 2019) with LSQ quantizers on weights and activations, in three phases:
/// self-studying (the quantized student learns the task alone), co-studying (teacher and student
/// train together, each on cross-entropy plus KL toward the other, which makes the teacher
/// quantization-friendly), and tutoring (the teacher is frozen and the student is distilled).
/// </summary>
public sealed class QkdMethod : LsqMethod
{
    private const int SelfStudying = 0, CoStudying = 1, Tutoring = 2;

    /// <summary>The teacher is already trained: in co-studying it is fine-tuned at a tenth of the student's learning rate.</summary>
    public const double TeacherLrScale = 0.1;

    private const string BeforeCoStudying = "teacher_before_co_studying.";
    private const string AccuracyBeforeCoStudying = "teacher_before_co_studying_accuracy";

    private readonly Module<Tensor, Tensor> teacher;
    private readonly TeacherLogits teacherLogits;
    // The teacher as co-studying found it, and its validation accuracy then: kept (and checkpointed) until tutoring starts.
    private StateDict? teacherBefore;
    private double teacherAccuracyBefore;

    public QkdMethod(Module<Tensor, Tensor> student, Module<Tensor, Tensor> teacher, TeacherLogits teacherLogits, ExperimentSpec spec) : base(student, spec)
    {
        this.teacher = teacher;
        this.teacherLogits = teacherLogits;
        Phases =
        [
            new("self_studying", spec.Qkd.SelfStudyingEpochs),
            new("co_studying", spec.Qkd.CoStudyingEpochs),
            new("tutoring", spec.Qkd.TutoringEpochs),
        ];
    }

    public override string Name => Methods.Qkd;
    public override IReadOnlyList<TrainingPhase> Phases { get; }
    public override IReadOnlyList<(string Name, Module Model)> Models => [("student", StudentModel), ("teacher", teacher)];

    public override void BeginPhase(int phase, PhaseContext context, bool resumed)
    {
        base.BeginPhase(phase, context, resumed);
        if (phase == CoStudying && !resumed && Phases[CoStudying].Epochs > 0)
        {
            teacherBefore?.Dispose();
            using (var own = teacher.StateDictOf())
                teacherBefore = own.Clone();
            teacherAccuracyBefore = TeacherAccuracy(context);
        }
        if (phase == Tutoring && !resumed)
            KeepTheBetterTeacher(context);
        // Co-studying changes the teacher: its logits must be recomputed for tutoring.
        if (phase == Tutoring)
            teacherLogits.Invalidate();
    }

    /// <summary>
    /// Co-studying pulls the teacher toward the student. From a student far below it, the pull can cost the teacher more
    /// than it gains: with a 97.4 % teacher and cifar-student-3 W4A4 students at 46–88 % after self-studying, the
    /// teacher's cross-entropy went from 0.003 to 0.17–0.72 in one epoch on every seed, and tutoring then taught from
    /// the worse teacher. Tutoring starts from whichever teacher is better on validation: the one co-studying made, or
    /// the one it started from.
    /// </summary>
    private void KeepTheBetterTeacher(PhaseContext context)
    {
        if (teacherBefore is null)
            return;
        var after = TeacherAccuracy(context);
        if (after < teacherAccuracyBefore)
        {
            teacher.LoadStateDictChecked(teacherBefore);
            context.Emit(new LogMessage("info", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"co-studying lowered the teacher's validation accuracy from {teacherAccuracyBefore:P2} to {after:P2}: tutoring uses the teacher as co-studying found it")));
        }
        else
            context.Emit(new LogMessage("info", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the teacher after co-studying: validation accuracy {after:P2} (before: {teacherAccuracyBefore:P2}); tutoring uses it")));
        teacherBefore.Dispose();
        teacherBefore = null;
    }

    private double TeacherAccuracy(PhaseContext context)
    {
        var wasTraining = teacher.training;
        teacher.eval();
        try
        {
            var result = context.EvaluateValidation(teacher);
            return result.Accuracy ?? -result.Loss;
        }
        finally
        {
            teacher.train(wasTraining);
        }
    }

    public override StateDict State()
    {
        var s = base.State();
        if (teacherBefore is not null)
        {
            s.AddWithPrefix(BeforeCoStudying, teacherBefore);
            s.Add(AccuracyBeforeCoStudying, torch.tensor(teacherAccuracyBefore, ScalarType.Float64));
        }
        return s;
    }

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        base.LoadState(state);
        teacherBefore?.Dispose();
        teacherBefore = null;
        if (!state.TryGetValue(AccuracyBeforeCoStudying, out var accuracy))
            return;
        teacherAccuracyBefore = accuracy.AsDouble();
        var saved = new StateDict();
        foreach (var (key, value) in state)
            if (key.StartsWith(BeforeCoStudying, StringComparison.Ordinal))
                saved.Add(key[BeforeCoStudying.Length..], value.alias());
        teacherBefore = saved.Clone();
        saved.Dispose();
    }

    public override void Dispose()
    {
        teacherBefore?.Dispose();
        base.Dispose();
    }

    public override void AfterBackward(int phase)
    {
        base.AfterBackward(phase);
        if (phase == CoStudying)
            GradientClipping.ClipByGlobalNorm(teacher.parameters(), MaxGradientNorm);
    }

    /// <summary>
    /// Where a phase sits in the run's one learning-rate schedule: the three phases share a schedule over
    /// all their epochs, so each phase continues where the last one stopped instead of restarting at the peak
    /// (a restart set the student back at each phase start: on cifar-student-3 W4A4 it lost 2 to 5 points
    /// in the first epoch of co-studying and of tutoring).
    /// </summary>
    public ScheduleWindow Window(int phase) => new(Phases.Take(phase).Sum(p => p.Epochs), Phases.Sum(p => p.Epochs));

    public override IReadOnlyList<Trainee> Trainees(int phase)
    {
        var window = Window(phase);
        var student = QuantizedStudent() with { Window = window };
        return phase == CoStudying
            ? [student, new Trainee("teacher", [new(teacher.parameters())], Spec.Teacher?.Train ?? Spec.Optimizer, TeacherLrScale, window)]
            : [student];
    }

    public override void SetTrainingMode(int phase)
    {
        StudentModel.train();
        teacher.train(phase == CoStudying);
    }

    public override StepLoss Loss(int phase, Batch batch, Tensor input)
    {
        switch (phase)
        {
            case SelfStudying:
                return FullPrecisionMethod.TaskLoss(StudentModel, batch, input);
            case CoStudying:
            {
                var t = Spec.Distillation.Temperature;
                var s = StudentModel.call(input);
                var tl = teacher.call(input);
                var studentCe = Losses.CrossEntropy(s, batch.Target);
                var studentKd = Losses.SoftTargetKl(s, tl.detach(), t);
                var teacherCe = Losses.CrossEntropy(tl, batch.Target);
                var teacherKd = Losses.SoftTargetKl(tl, s.detach(), t);
                // The two networks share no parameters, so one backward of the sum gives each its own loss's gradient.
                var total = studentCe.Plus(studentKd).Plus(teacherCe).Plus(teacherKd);
                return new StepLoss(total, new Dictionary<string, Tensor>
                {
                    ["ce"] = studentCe, ["kd"] = studentKd, ["teacher_ce"] = teacherCe, ["teacher_kd"] = teacherKd,
                }, s);
            }
            default:
                return DistillationMethod.DistillationLoss(StudentModel, teacherLogits, Spec.Distillation, batch, input);
        }
    }
}
