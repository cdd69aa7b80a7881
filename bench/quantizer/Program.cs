using System.Diagnostics;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

// Throughput of the fused bucketed quantizer (QuantKernels, managed SIMD) against the same quantization
// written as separate TorchSharp ops, in one process, on a 10M-element float32 tensor (the size) and
// a 1M-element one (the size of a large layer of the zoo's networks), next to two copies of the tensor: into
// a preallocated one (copy_, the memory-bandwidth limit) and into a new one (clone, what any operation that
// returns a new tensor pays: at 10M its 40 MB output lies above glibc's largest mmap threshold, 32 MiB, so
// every call maps fresh pages and faults each of them in). The fused kernel reads the input once and writes
// 5 bytes per element. GB/s counts the float32 input read once (4 bytes per element), for all.

const int bucket = 256;
const int bits = 4;
NativeEnvironment.Initialize();
NativeMemory.RetainFreedMemory(); // as training does
var threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
torch.set_num_threads(threads);
torch.manual_seed(0);
foreach (var count in new long[] { 10_000_000, 1_000_000 })
    MeasureSize(count);

void MeasureSize(long count)
{
using var input = torch.randn(count);
using var copyTarget = torch.empty(count);

double Measure(Action quantize)
{
    for (var i = 0; i < 3; i++)
        quantize(); // warm-up: page in buffers, spin up the thread pool
    var runs = new List<double>();
    for (var i = 0; i < 10; i++)
    {
        var sw = Stopwatch.StartNew();
        quantize();
        runs.Add(sw.Elapsed.TotalSeconds);
    }
    runs.Sort();
    return runs[runs.Count / 2]; // median
}

void Fused()
{
    var r = QuantKernels.BucketedQuantize(input, bucket, bits, absmax: false, stochastic: false);
    r.Dequantized.Dispose();
    r.Codes.Dispose();
    r.Alpha.Dispose();
    r.Beta.Dispose();
}

// The PyTorch way: pad with the last value, view as buckets, per-bucket min/max, scale, round, rescale.
void Unfused()
{
    using var scope = torch.NewDisposeScope();
    var flat = input.flatten();
    var buckets = (count + bucket - 1) / bucket;
    var pad = buckets * bucket - count;
    var padded = pad == 0 ? flat : torch.cat([flat, flat.narrow(0, count - 1, 1).expand(pad)]);
    var b = padded.view(buckets, bucket);
    var (min, _) = b.min(1, keepdim: true);
    var (max, _) = b.max(1, keepdim: true);
    var alpha = max - min;
    alpha = torch.where(alpha.lt(1e-10), torch.tensor(1.0f), alpha);
    var steps = (1 << bits) - 1;
    var codes = ((b - min) / alpha * steps).round();
    var dequantized = (codes / steps * alpha + min).view(-1).narrow(0, 0, count);
    var codes8 = codes.to_type(ScalarType.Byte);
    GC.KeepAlive(dequantized);
    GC.KeepAlive(codes8);
}

void Copy() => copyTarget.copy_(input);

void Clone() => input.clone().Dispose();

// Both must produce the same codes before their speed means anything.
using (var scope = torch.NewDisposeScope())
{
    var r = QuantKernels.BucketedQuantize(input, bucket, bits, false, false);
    var whole = count / bucket * bucket; // full buckets only: the check needs no padding
    var flat = input.narrow(0, 0, whole).view(whole / bucket, bucket);
    var (min, _) = flat.min(1, keepdim: true);
    var (max, _) = flat.max(1, keepdim: true);
    var codes = ((flat - min) / (max - min) * ((1 << bits) - 1)).round().to_type(ScalarType.Byte).view(-1);
    var mismatches = codes.ne(r.Codes.narrow(0, 0, whole)).to_type(ScalarType.Int64).sum().AsInt64();
    Console.WriteLine($"codes differing between fused and op-by-op: {mismatches} of {whole}");
}

var fused = Measure(Fused);
var unfused = Measure(Unfused);
var copy = Measure(Copy);
var clone = Measure(Clone);
var gb = count * 4 / 1e9;
Console.WriteLine($"elements {count}, bucket {bucket}, bits {bits}, threads {threads}");
Console.WriteLine($"fused_gb_per_s {gb / fused:F2}  ({fused * 1e3:F2} ms)");
Console.WriteLine($"unfused_gb_per_s {gb / unfused:F2}  ({unfused * 1e3:F2} ms)");
Console.WriteLine($"copy_gb_per_s {gb / copy:F2}  ({copy * 1e3:F2} ms)");
Console.WriteLine($"clone_gb_per_s {gb / clone:F2}  ({clone * 1e3:F2} ms)");
Console.WriteLine($"ratio {unfused / fused:F2}");
Console.WriteLine($"fused_fraction_of_copy {copy / fused:F2}  fused_fraction_of_clone {clone / fused:F2}  unfused_fraction_of_copy {copy / unfused:F2}");
Console.WriteLine();
}
