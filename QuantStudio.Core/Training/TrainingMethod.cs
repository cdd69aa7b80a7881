using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Training.Quantizers;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;
using QuantStudio.Core.Training.Optim;

namespace QuantStudio.Core.Training;

/// <summary>A stage of a method with its own epochs, optimizers and schedules (QKD's three phases, DQ's two).</summary>
/// <param name="Epochs">0 for a one-shot stage (post-training quantization), done entirely in BeginPhase.</param>
public sealed record TrainingPhase(string Name, int Epochs);

/// <summary>A network (or a quantizer's parameters) trained in a phase, with its own optimizer.</summary>
/// <param name="LrScale">Multiplies the optimizer spec's lr for this trainee.</param>
/// <param name="Window">Where this phase sits in a schedule that spans several phases; null gives the phase a schedule of its own over its epochs.</param>
public sealed record Trainee(string Name, IReadOnlyList<ParamGroupSpec> Groups, OptimizerSpec Optimizer, double LrScale = 1, ScheduleWindow? Window = null);

/// <summary>A phase's part of one learning-rate schedule over <paramref name="TotalEpochs"/>: it starts at <paramref name="FirstEpoch"/> instead of at the peak.</summary>
public sealed record ScheduleWindow(int FirstEpoch, int TotalEpochs);

/// <summary>One step's loss, its named parts (for the event stream) and the student's logits (for training accuracy).</summary>
public sealed record StepLoss(Tensor Total, IReadOnlyDictionary<string, Tensor> Parts, Tensor Logits);

/// <summary>What a phase may need from the data when it begins (a calibration batch, a few batches for gradient norms).</summary>
public sealed class PhaseContext(LoadedDataset data, int batchSize, Func<Tensor, Tensor> prepareInput, bool bf16, Action<RunEvent> emit,
    CancellationToken cancellationToken = default)
{
    /// <summary>Reports through the run's event stream.</summary>
    public Action<RunEvent> Emit { get; } = emit;

    /// <summary>Loss and accuracy (or perplexity) of a network on the validation split, in fp32.</summary>
    public EvaluationResult EvaluateValidation(Module<Tensor, Tensor> model) =>
        ModelEvaluator.Evaluate(model, Data, Data.Validation, BatchSize, PrepareInput, cancellationToken);

    public LoadedDataset Data { get; } = data;
    public int BatchSize { get; } = batchSize;
    public Func<Tensor, Tensor> PrepareInput { get; } = prepareInput;
    public bool Bf16 { get; } = bf16;

    /// <summary>The first <paramref name="count"/> training batches in split order, unaugmented (the same on every run). Dispose each.</summary>
    public IEnumerable<Batch> FirstTrainBatches(int count)
    {
        using var epoch = Data.CreateEvalLoader(Data.Train, BatchSize).Epoch(0);
        var n = 0;
        foreach (var batch in epoch)
        {
            yield return batch;
            if (++n >= count)
                yield break;
        }
    }
}

/// <summary>
/// A training method as a small class over the shared <see cref="Trainer"/>: it names its phases, says
/// what is trained in each, computes the loss of a batch, and at the end says how each quantized
/// tensor is stored. The trainer owns the loop, precision, evaluation, events and checkpoints.
/// </summary>
public abstract class TrainingMethod : IDisposable
{
    /// <summary>The spec's method name (checked when a run resumes).</summary>
    public abstract string Name { get; }

    public abstract IReadOnlyList<TrainingPhase> Phases { get; }

    /// <summary>The network evaluated every epoch and delivered at the end, with its quantizers in place.</summary>
    public abstract Module<Tensor, Tensor> Student { get; }

    /// <summary>The networks whose weights a checkpoint holds (a co-studying teacher changes too).</summary>
    public virtual IReadOnlyList<(string Name, Module Model)> Models => [("student", Student)];

    /// <summary>
    /// Starts phase <paramref name="phase"/>. With <paramref name="resumed"/> the phase's state has just been
    /// restored from a checkpoint (models and <see cref="LoadState"/>): set up, but do not reinitialize.
    /// </summary>
    public virtual void BeginPhase(int phase, PhaseContext context, bool resumed)
    {
    }

    public abstract IReadOnlyList<Trainee> Trainees(int phase);

    /// <summary>Puts the phase's networks in training or evaluation mode before each epoch.</summary>
    public virtual void SetTrainingMode(int phase) => Student.train();

    public virtual void BeforeStep(int phase, long step)
    {
    }

    /// <summary>The loss of one batch; runs inside the step's dispose scope (and bf16 autocast when enabled).</summary>
    public abstract StepLoss Loss(int phase, Batch batch, Tensor input);

    public virtual void AfterBackward(int phase)
    {
    }

    public virtual void AfterStep(int phase)
    {
    }

    /// <summary>Quantizer parameters (steps, points) for the checkpoint.</summary>
    public virtual StateDict State() => new();

    public virtual void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
    }

    /// <summary>The student's quantized weights as they stand (empty for full-precision methods).</summary>
    public virtual IReadOnlyList<QuantizedWeightView> QuantizedWeights() => [];

    /// <summary>
    /// Ends training: the final quantization is in place (deterministic rounding), and the result is each
    /// quantized tensor's encoding by state_dict name. Must not depend on <see cref="BeginPhase"/> having run
    /// (a run resumed after its last epoch goes straight here).
    /// </summary>
    public virtual IReadOnlyDictionary<string, TensorEncoding> Finish() => new Dictionary<string, TensorEncoding>();

    /// <summary>The dequantized value of every quantized weight after <see cref="Finish"/> (caller owns the tensors).</summary>
    public virtual Dictionary<string, Tensor> DequantizedWeights() => [];

    /// <summary>The quantizers on the student's layer inputs after <see cref="Finish"/> (empty when activations stay in full precision).</summary>
    public virtual IReadOnlyList<ActivationQuantizer> ActivationQuantizers() => [];

    protected static Trainee StudentTrainee(Module model, OptimizerSpec optimizer, IEnumerable<Tensor>? quantizerParameters = null)
    {
        var groups = new List<ParamGroupSpec> { new(model.parameters()) };
        var extra = quantizerParameters?.ToList();
        if (extra is { Count: > 0 })
            groups.Add(new ParamGroupSpec(extra, weight_decay: 0));
        return new Trainee("student", groups, optimizer);
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}
