using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantStudio.Core.Engine;

/// <summary>The four outputs of the fused bucketed quantizer.</summary>
public readonly record struct BucketedQuantizeResult(Tensor Dequantized, Tensor Codes, Tensor Alpha, Tensor Beta);

/// <summary>
/// Fused bucketed quantization on tensor memory: one pass per bucket for its range, one for codes
/// and dequantized values, vectorized with <see cref="Vector{T}"/> and parallel over buckets, with
/// no temporaries. The managed reference (Quantization/Reference) computes the same float
/// expressions in the same order, so the two agree bit for bit.
/// </summary>
public static class QuantKernels
{
    // Work per task: enough elements that scheduling costs nothing next to the arithmetic.
    internal const long GrainElements = 1 << 15;

    /// <summary>
    /// Quantizes a float32 CPU tensor in buckets of <paramref name="bucketSize"/> elements
    /// (0 = one bucket for the whole tensor). Uniform: α = max − min, β = min per bucket and
    /// 2^bits levels. Absmax: α = max |v|, β = 0, a sign bit and 2^(bits−1) levels on |v|.
    /// Stochastic rounding draws per element from (<paramref name="seed"/>, index).
    /// </summary>
    public static BucketedQuantizeResult BucketedQuantize(Tensor input, long bucketSize, int bits, bool absmax, bool stochastic, ulong seed = 0)
    {
        CheckFloat32Cpu(input, nameof(input));
        var spec = BucketSpec.Create(input.numel(), bucketSize, bits, absmax, stochastic, seed);
        using var scope = NewDisposeScope();
        var v = input.contiguous();
        var outT = empty(input.shape, ScalarType.Float32);
        var codesT = empty(input.shape, ScalarType.Byte);
        var alphaT = empty([spec.Buckets], ScalarType.Float32);
        var betaT = empty([spec.Buckets], ScalarType.Float32);
        if (spec.Numel > 0)
            Quantize(spec, v, outT, codesT, alphaT, betaT);
        return new BucketedQuantizeResult(scope.MoveToOuter(outT), scope.MoveToOuter(codesT), scope.MoveToOuter(alphaT), scope.MoveToOuter(betaT));
    }

    /// <summary>Float32 values from uint8 codes and per-bucket (α, β); β may be null for absmax.</summary>
    public static Tensor BucketedDequantize(Tensor codes, Tensor alpha, Tensor? beta, long bucketSize, int bits, bool absmax)
    {
        if (codes.dtype != ScalarType.Byte)
            throw new ArgumentException($"codes must be uint8, got {codes.dtype}", nameof(codes));
        CheckFloat32Cpu(alpha, nameof(alpha));
        var spec = BucketSpec.Create(codes.numel(), bucketSize, bits, absmax, false, 0);
        if (alpha.numel() != spec.Buckets)
            throw new ArgumentException($"alpha holds {alpha.numel()} scales for {spec.Buckets} buckets", nameof(alpha));
        if (!absmax && (beta is null || beta.numel() != spec.Buckets))
            throw new ArgumentException($"uniform dequantization needs one beta per bucket ({spec.Buckets})", nameof(beta));
        using var scope = NewDisposeScope();
        var c = codes.contiguous();
        var a = alpha.contiguous();
        var b = absmax ? null : beta!.to_type(ScalarType.Float32).contiguous();
        var result = empty(codes.shape, ScalarType.Float32);
        if (spec.Numel > 0)
            Dequantize(spec, c, a, b, result);
        return scope.MoveToOuter(result);
    }

    internal static void CheckFloat32Cpu(Tensor t, string name)
    {
        if (t.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name} must be float32, got {t.dtype}", name);
        if (t.device_type != DeviceType.CPU)
            throw new ArgumentException($"{name} must be on the CPU, got {t.device}", name);
    }

    private readonly record struct BucketSpec(long Numel, long Bucket, long Buckets, int Bits, bool Absmax, bool Stochastic, ulong Seed)
    {
        /// <summary>Steps between levels: 2^bits − 1 (uniform) or 2^(bits−1) − 1 on |v| (absmax).</summary>
        public float Steps => Absmax ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;

        public static BucketSpec Create(long numel, long bucketSize, int bits, bool absmax, bool stochastic, ulong seed)
        {
            if (bits is < 1 or > 8)
                throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in 1..8");
            if (absmax && bits < 2)
                throw new ArgumentOutOfRangeException(nameof(bits), bits, "absmax keeps a sign bit, so bits must be in 2..8");
            if (bucketSize < 0)
                throw new ArgumentOutOfRangeException(nameof(bucketSize), bucketSize, "bucket size must be >= 1 (or 0 for the whole tensor)");
            if (numel > int.MaxValue)
                throw new ArgumentException($"tensors of more than {int.MaxValue} elements are not supported, got {numel}", nameof(numel));
            var bucket = bucketSize == 0 ? Math.Max(numel, 1) : bucketSize;
            return new BucketSpec(numel, bucket, (numel + bucket - 1) / bucket, bits, absmax, stochastic, seed);
        }
    }

    /// <summary>Parallel loops use libtorch's intra-op thread count, so a run set to n threads uses n here too.</summary>
    internal static ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) };

    private static unsafe void Quantize(BucketSpec s, Tensor vT, Tensor outT, Tensor codesT, Tensor alphaT, Tensor betaT)
    {
        var v = TensorMemory.Pointer<float>(vT);
        var o = TensorMemory.Pointer<float>(outT);
        var codes = TensorMemory.Pointer<byte>(codesT);
        var alpha = TensorMemory.Pointer<float>(alphaT);
        var beta = TensorMemory.Pointer<float>(betaT);
        var threads = Math.Max(1, torch.get_num_threads());
        if (s.Buckets >= 2 * threads || s.Numel <= GrainElements)
        {
            // Many buckets: each task owns whole buckets and reads each from cache the second time.
            var perTask = Math.Max(1, GrainElements / s.Bucket);
            var tasks = (s.Buckets + perTask - 1) / perTask;
            Parallel.For(0, tasks, Parallelism, t =>
            {
                var last = Math.Min(s.Buckets, (t + 1) * perTask);
                for (var k = t * perTask; k < last; k++)
                {
                    long b = k * s.Bucket, e = Math.Min(b + s.Bucket, s.Numel);
                    var (lo, hi) = Range(s.Absmax, v + b, (int)(e - b));
                    (alpha[k], beta[k]) = Scale(s.Absmax, lo, hi);
                    QuantizeRange(s, v, b, e, alpha[k], beta[k], codes, o);
                }
            });
            return;
        }
        // Few large buckets: a parallel range per bucket, then a parallel element-wise pass.
        for (long k = 0; k < s.Buckets; k++)
        {
            long b = k * s.Bucket, e = Math.Min(b + s.Bucket, s.Numel);
            var chunks = (e - b + GrainElements - 1) / GrainElements;
            var partial = new (float Lo, float Hi)[chunks];
            Parallel.For(0, chunks, Parallelism, c =>
            {
                long cb = b + c * GrainElements, ce = Math.Min(e, cb + GrainElements);
                partial[c] = Range(s.Absmax, v + cb, (int)(ce - cb));
            });
            float lo = partial[0].Lo, hi = partial[0].Hi;
            foreach (var p in partial)
            {
                lo = Math.Min(lo, p.Lo);
                hi = Math.Max(hi, p.Hi);
            }
            (alpha[k], beta[k]) = Scale(s.Absmax, lo, hi);
        }
        var pieces = (s.Numel + GrainElements - 1) / GrainElements;
        Parallel.For(0, pieces, Parallelism, c =>
        {
            long first = c * GrainElements, last = Math.Min(s.Numel, first + GrainElements);
            while (first < last)
            {
                var k = first / s.Bucket;
                var e = Math.Min(last, (k + 1) * s.Bucket);
                QuantizeRange(s, v, first, e, alpha[k], beta[k], codes, o);
                first = e;
            }
        });
    }

    /// <summary>(min, max) of the values, or (0, max |v|) for absmax.</summary>
    private static unsafe (float Lo, float Hi) Range(bool absmax, float* v, int n)
    {
        var span = new ReadOnlySpan<float>(v, n);
        if (absmax)
        {
            var hi = 0f;
            var i = 0;
            if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
            {
                var acc = Vector<float>.Zero;
                var values = MemoryMarshal.Cast<float, Vector<float>>(span);
                foreach (var x in values)
                    acc = Vector.Max(acc, Vector.Abs(x));
                for (var j = 0; j < Vector<float>.Count; j++)
                    hi = Math.Max(hi, acc[j]);
                i = values.Length * Vector<float>.Count;
            }
            for (; i < n; i++)
                hi = MathF.Abs(span[i]) > hi ? MathF.Abs(span[i]) : hi;
            return (0f, hi);
        }
        else
        {
            float lo = span[0], hi = span[0];
            var i = 0;
            if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
            {
                var values = MemoryMarshal.Cast<float, Vector<float>>(span);
                Vector<float> vlo = values[0], vhi = values[0];
                foreach (var x in values)
                {
                    vlo = Vector.Min(vlo, x);
                    vhi = Vector.Max(vhi, x);
                }
                for (var j = 0; j < Vector<float>.Count; j++)
                {
                    lo = Math.Min(lo, vlo[j]);
                    hi = Math.Max(hi, vhi[j]);
                }
                i = values.Length * Vector<float>.Count;
            }
            for (; i < n; i++)
            {
                lo = span[i] < lo ? span[i] : lo;
                hi = span[i] > hi ? span[i] : hi;
            }
            return (lo, hi);
        }
    }

    private static (float Alpha, float Beta) Scale(bool absmax, float lo, float hi)
    {
        var alpha = absmax ? hi : hi - lo;
        if (alpha < 1e-10f)
            alpha = 1f;
        return (alpha, absmax ? 0f : lo);
    }

    // Round half to even without a call: adding and removing 1.5·2^23 leaves the nearest integer
    // (ties to even, the default rounding mode) for |x| < 2^22, which every code is.
    internal const float RoundMagic = 12582912.0f;

    internal static float RoundHalfEven(float x) => (x + RoundMagic) - RoundMagic;

    /// <summary>Per-element uniform draw in [0, 1): SplitMix64 of (seed, index), independent of threads and buckets.</summary>
    internal static float Uniform01(ulong seed, long index)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * ((ulong)index + 1UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1.0f / 16777216.0f);
    }

    /// <summary>Codes and dequantized values of elements [b, e) with the bucket's (α, β).</summary>
    private static unsafe void QuantizeRange(BucketSpec s, float* v, long b, long e, float alpha, float beta, byte* codes, float* o)
    {
        var steps = s.Steps;
        var step = alpha / steps;
        var i = b;
        if (!s.Absmax && !s.Stochastic && Vector.IsHardwareAccelerated)
        {
            // The hot path (deterministic uniform) is vectorized; the expressions are the scalar ones, lane by lane.
            var vbeta = new Vector<float>(beta);
            var valpha = new Vector<float>(alpha);
            var vsteps = new Vector<float>(steps);
            var vstep = new Vector<float>(step);
            var magic = new Vector<float>(RoundMagic);
            var n = Vector<float>.Count;
            for (; i + n <= e; i += n)
            {
                var x = (Vector.Load(v + i) - vbeta) / valpha * vsteps;
                // Clamp to [0, steps]; comparisons are false for NaN, which therefore becomes 0.
                x = Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, Vector<float>.Zero);
                x = Vector.ConditionalSelect(Vector.LessThan(x, vsteps), x, vsteps);
                var q = (x + magic) - magic;
                (q * vstep + vbeta).Store(o + i);
                var c = Vector.ConvertToInt32(q);
                for (var j = 0; j < n; j++)
                    codes[i + j] = (byte)c[j];
            }
        }
        var signCode = 1 << (s.Bits - 1);
        for (; i < e; i++)
        {
            var x = s.Absmax ? MathF.Abs(v[i]) / alpha * steps : (v[i] - beta) / alpha * steps;
            x = x > 0f ? x : 0f;
            x = x < steps ? x : steps;
            float q;
            if (s.Stochastic)
            {
                var fl = (float)(int)x;
                q = Uniform01(s.Seed, i) < x - fl ? fl + 1f : fl;
            }
            else
            {
                q = RoundHalfEven(x);
            }
            var code = (int)q;
            if (s.Absmax)
            {
                var negative = v[i] < 0f;
                codes[i] = (byte)(negative ? code | signCode : code);
                o[i] = negative ? -(q * step) : q * step;
            }
            else
            {
                codes[i] = (byte)code;
                o[i] = q * step + beta;
            }
        }
    }

    private static unsafe void Dequantize(BucketSpec s, Tensor codesT, Tensor alphaT, Tensor? betaT, Tensor outT)
    {
        var codes = TensorMemory.Pointer<byte>(codesT);
        var alpha = TensorMemory.Pointer<float>(alphaT);
        var beta = betaT is null ? null : TensorMemory.Pointer<float>(betaT);
        var o = TensorMemory.Pointer<float>(outT);
        var steps = s.Steps;
        var signShift = s.Bits - 1;
        var magnitudeMask = (1 << signShift) - 1;
        var pieces = (s.Numel + GrainElements - 1) / GrainElements;
        Parallel.For(0, pieces, Parallelism, c =>
        {
            long first = c * GrainElements, last = Math.Min(s.Numel, first + GrainElements);
            while (first < last)
            {
                var k = first / s.Bucket;
                var e = Math.Min(last, (k + 1) * s.Bucket);
                var step = alpha[k] / steps;
                if (!s.Absmax)
                {
                    for (var i = first; i < e; i++)
                        o[i] = codes[i] * step + beta[k];
                }
                else
                {
                    for (var i = first; i < e; i++)
                    {
                        float q = codes[i] & magnitudeMask;
                        o[i] = (codes[i] >> signShift) != 0 ? -(q * step) : q * step;
                    }
                }
                first = e;
            }
        });
    }
}
