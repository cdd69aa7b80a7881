using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace QuantStudio.Core.Training;

/// <summary>
/// The losses the methods combine. Logits are [N, classes] for images and [N, L, vocabulary] for the
/// character LM; the LM's positions are flattened so that every character counts as one example.
/// Logits are taken to float32 first: under bf16 autocast the last linear layer returns bf16, and
/// softmax statistics belong in full precision.
/// </summary>
public static class Losses
{
    /// <summary>Mean cross-entropy over examples (or characters).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target)
    {
        using var scope = torch.NewDisposeScope();
        var (flat, t) = Flatten(logits, target);
        return scope.MoveToOuter(F.cross_entropy(flat, t));
    }

    /// <summary>
    /// T²·KL(softmax(t/T) ‖ softmax(s/T)), averaged over examples (kl_div with log-probabilities and
    /// batchmean). The T² keeps the soft gradients' scale independent of the temperature (Hinton et al.).
    /// </summary>
    public static Tensor SoftTargetKl(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var s = FlattenLogits(studentLogits);
        var t = FlattenLogits(teacherLogits);
        using var byT = temperature.ToScalar();
        using var squared = (temperature * temperature).ToScalar();
        var logP = F.log_softmax(s.div(byT), 1);
        var q = F.softmax(t.div(byT), 1);
        // batchmean: the summed divergence over the batch size (TorchSharp has no batchmean reduction).
        using var batch = logP.size(0).ToScalar();
        var kl = F.kl_div(logP, q, false, nn.Reduction.Sum).div(batch);
        return scope.MoveToOuter(kl.mul(squared));
    }

    /// <summary>α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y), with its two parts.</summary>
    public static (Tensor Total, Tensor Soft, Tensor Hard) Distillation(Tensor studentLogits, Tensor teacherLogits, Tensor target,
        double temperature, double alpha)
    {
        using var scope = torch.NewDisposeScope();
        var soft = SoftTargetKl(studentLogits, teacherLogits, temperature);
        var hard = CrossEntropy(studentLogits, target);
        using var softWeight = alpha.ToScalar();
        using var hardWeight = (1 - alpha).ToScalar();
        var total = soft.mul(softWeight).Plus(hard.mul(hardWeight));
        return (scope.MoveToOuter(total), scope.MoveToOuter(soft), scope.MoveToOuter(hard));
    }

    /// <summary>Correct arg-max predictions and the number of predictions (examples, or characters).</summary>
    public static (long Correct, long Count) Correct(Tensor logits, Tensor target)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (flat, t) = Flatten(logits, target);
        var hits = flat.argmax(1).eq(t).sum().AsInt64();
        return (hits, t.numel());
    }

    internal static Tensor FlattenLogits(Tensor logits)
    {
        var f = logits.dtype == ScalarType.Float32 ? logits : logits.to_type(ScalarType.Float32);
        return f.dim() == 2 ? f : f.reshape(-1, f.size(-1));
    }

    private static (Tensor Logits, Tensor Target) Flatten(Tensor logits, Tensor target) =>
        (FlattenLogits(logits), target.dim() == 1 ? target : target.reshape(-1));
}
