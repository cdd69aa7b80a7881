using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>
/// TorchSharp hands a <see cref="Scalar"/>'s native handle to libtorch without keeping the Scalar alive for the call, and a
/// Scalar's finalizer frees it: a Scalar nobody holds (one an implicit conversion makes, <c>t.mul_(0.9)</c>, or one TorchSharp
/// makes inside <c>a + b</c>, <c>a.add(b)</c>, <c>x * 0.5</c>) may be freed while libtorch reads it, when another thread's
/// allocations run the GC at that moment. libtorch then reads a Scalar of no known type ("Expected false to be true" from
/// c10::Scalar) or memory that is no longer one, and the run fails or the process aborts. So every Scalar given to TorchSharp
/// is held: <c>using var s = value.ToScalar();</c> for the length of the call, or one of the constants here, held for the life
/// of the process. QuantStudio.Tests' TemporaryScalarTests reads Core's IL to keep it so.
/// </summary>
public static class HeldScalars
{
    /// <summary>1, as TorchSharp's own <c>add(t)</c> gives it (an integer, valid for every dtype).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>a + b (TorchSharp's <c>a + b</c> and <c>a.add(b)</c> make a Scalar 1 that nothing holds).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b in place (as <see cref="Plus"/>, for <c>add_(b)</c>).</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);
}
