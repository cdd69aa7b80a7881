using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Quantization;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using QuantStudio.Core.Training.Optim;

namespace QuantStudio.Core.Training;

/// <summary>
/// Differentiable quantization (Polino et al. 2018) in two phases. Phase 1 trains the student in full
/// precision by distillation (the paper starts from a trained student). Phase 2 freezes every weight
/// (and the batch-norm statistics) and learns each quantized tensor's points by SGD under the same
/// distillation loss. Points start at the quantiles of the scaled weights or evenly spaced; with
/// bit allocation the budget of points is shared across tensors by gradient norm first.
/// </summary>
public sealed class DifferentiableQuantizationMethod : TrainingMethod
{
    private const int AllocationBatches = 4;
    private readonly Module<Tensor, Tensor> student;
    private readonly TeacherLogits teacher;
    private readonly ExperimentSpec spec;
    private readonly PointWeightQuantizers points;

    public DifferentiableQuantizationMethod(Module<Tensor, Tensor> student, TeacherLogits teacher, ExperimentSpec spec)
    {
        this.student = student;
        this.teacher = teacher;
        this.spec = spec;
        points = new PointWeightQuantizers(QuantizableWeights.Select(student, spec.Quantization.QuantizeFirstLast), spec.Quantization.BucketSize);
        Phases = [new("distillation", spec.Optimizer.Epochs), new("differentiable_quantization", spec.Optimizer.Epochs)];
    }

    public override string Name => Methods.DifferentiableQuantization;
    public override IReadOnlyList<TrainingPhase> Phases { get; }
    public override Module<Tensor, Tensor> Student => student;
    public PointWeightQuantizers Points => points;
    private bool learningPoints;

    public override IReadOnlyList<Trainee> Trainees(int phase) => phase == 0
        ? [StudentTrainee(student, spec.Optimizer)]
        : [new Trainee("points", [new ParamGroupSpec(points.Points, weight_decay: 0)],
            spec.Optimizer with { Name = "adam", WeightDecay = 0 }, PointsLrScale)];

    /// <summary>
    /// Points live in [0, 1] and each one's gradient sums over every weight mapped to it, so gradient
    /// scales differ by orders of magnitude between tensors: they are trained with Adam, which
    /// normalizes each point's step, at a fiftieth of the spec's learning rate (0.001 for lr 0.05).
    /// </summary>
    public const double PointsLrScale = 0.02;

    public override void BeginPhase(int phase, PhaseContext context, bool resumed)
    {
        if (phase != 1)
            return;
        points.Freeze();
        if (!resumed)
            InitializePoints(context);
        StartLearningPoints();
        if (!resumed)
        {
            // The post-training quantization this phase starts from: what learning the points improves on.
            StartValidation = context.EvaluateValidation(student);
            context.Emit(new LogMessage("info", $"points initialized ({spec.Quantization.PointInit}): validation " +
                (StartValidation.Accuracy is { } a ? $"accuracy {a:P2}" : $"perplexity {StartValidation.Perplexity:F3}")));
        }
    }

    /// <summary>Validation figures of the student with its initial points, before any was learned (null until then, or when resumed past it).</summary>
    public EvaluationResult? StartValidation { get; private set; }

    private void StartLearningPoints()
    {
        points.Freeze();
        foreach (var p in student.parameters())
            p.requires_grad_(false);
        points.Install();
        learningPoints = true;
    }

    /// <summary>2^bits points per tensor, or the same total shared by gradient norm; then quantile or uniform positions.</summary>
    private void InitializePoints(PhaseContext context)
    {
        var q = spec.Quantization;
        var counts = Enumerable.Repeat(1 << q.Bits, points.Weights.Count).ToArray();
        if (q.BitAllocation)
            counts = BitAllocation.Allocate(counts, GradientNorms(context));
        points.Initialize(q.PointInit, counts);
    }

    /// <summary>‖∂L/∂w‖ per quantized tensor under the distillation loss, over the first few training batches.</summary>
    private double[] GradientNorms(PhaseContext context)
    {
        var wasTraining = student.training;
        student.eval();
        student.zero_grad();
        try
        {
            foreach (var batch in context.FirstTrainBatches(AllocationBatches))
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    var input = context.PrepareInput(batch.Input);
                    DistillationMethod.DistillationLoss(student, teacher, spec.Distillation, batch, input).Total.backward();
                }
            }
            return points.Weights.Select(w =>
            {
                using var g = w.Weight.grad;
                return g is null ? 0 : g.norm().item<float>();
            }).Select(v => (double)v).ToArray();
        }
        finally
        {
            student.zero_grad();
            student.train(wasTraining);
        }
    }

    /// <summary>While points are learned the student is frozen, batch-norm statistics included.</summary>
    public override void SetTrainingMode(int phase) => student.train(phase == 0);

    public override StepLoss Loss(int phase, Batch batch, Tensor input) =>
        DistillationMethod.DistillationLoss(student, teacher, spec.Distillation, batch, input);

    public override void AfterBackward(int phase)
    {
        if (phase == 1)
            points.AfterBackward();
    }

    public override void AfterStep(int phase)
    {
        if (phase == 1)
            points.AfterStep();
    }

    public override StateDict State() => points.State();

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state) => points.LoadState(state);

    public override IReadOnlyList<QuantizedWeightView> QuantizedWeights() => learningPoints ? points.Views() : [];

    public override IReadOnlyDictionary<string, TensorEncoding> Finish()
    {
        if (!learningPoints)
            StartLearningPoints();
        student.eval();
        return points.Encodings();
    }

    public override Dictionary<string, Tensor> DequantizedWeights() => points.Dequantized();

    public override void Dispose()
    {
        points.Dispose();
        base.Dispose();
    }
}
