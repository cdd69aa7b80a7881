using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// Mixed precision by hand, since TorchSharp 0.107 has no autocast: inside a <see cref="Bf16"/>
/// scope the linear layers and the LSTM compute in bfloat16 from bf16 casts of their fp32 weights,
/// and return fp32. Convolutions stay fp32: libtorch 2.10's bf16 convolution backward returned NaN
/// gradients at random on these CPUs (docs/engine.md). The parameters, their gradients and the
/// optimizer state stay fp32 (the master weights): the casts are differentiable, so the gradient
/// reaches the fp32 weight. Everything else (batch norm, losses, quantizers) runs in fp32.
/// The setting is per thread, like autocast.
/// </summary>
public static class ComputePrecision
{
    [ThreadStatic]
    private static bool bf16;

    /// <summary>True while layers on this thread compute in bf16.</summary>
    public static bool IsBf16 => bf16;

    /// <summary>Layers on this thread compute in bf16 until the scope is disposed (a no-op scope when <paramref name="enabled"/> is false).</summary>
    public static IDisposable Bf16(bool enabled = true)
    {
        var previous = bf16;
        bf16 = enabled || previous;
        return new Restore(previous);
    }

    /// <summary>Layers on this thread compute in fp32 until the scope is disposed, whatever an outer scope said (evaluation).</summary>
    public static IDisposable Fp32()
    {
        var previous = bf16;
        bf16 = false;
        return new Restore(previous);
    }

    /// <summary>The operand a weighted layer computes with: a bf16 cast inside a <see cref="Bf16"/> scope, the tensor itself otherwise.</summary>
    public static Tensor Operand(Tensor t) => bf16 && t.dtype == ScalarType.Float32 ? t.to_type(ScalarType.BFloat16) : t;

    /// <summary>A layer's result back in fp32 when it was computed in bf16.</summary>
    public static Tensor Result(Tensor t) => t.dtype == ScalarType.BFloat16 ? t.to_type(ScalarType.Float32) : t;

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => bf16 = previous;
    }
}
