using System.Globalization;
using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using QuantStudio.Core.Models.Layers;
using TorchSharp;

// Inference latency of the paper's CIFAR-10 teacher and its three students in ONNX Runtime (float and low-bit
// weights) and in our TorchSharp forward pass, at batch 1 and 64, next to each model's depth (conv + linear
// layers), parameters and FLOPs. Latency does not depend on the weights' values, so the models are freshly
// initialized; the students are saved at 4 bits (buckets of 256, first and last layer in fp32) as a
// quantized-distillation run saves them, the teacher in full precision. Medians of the timed runs.

NativeEnvironment.Initialize();
var threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 25;
torch.set_num_threads(threads);
var input = InputShape.Image(3, 32, 32, 10);
var dir = Directory.CreateTempSubdirectory("qs-onnx-bench-").FullName;
Console.WriteLine($"ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}, {threads} threads, median of {iterations} runs after 5 warm-up runs");
Console.WriteLine();
Console.WriteLine("| model | depth (conv + fc) | params | MFLOPs | ORT float b1 (ms) | ORT float b64 (ms) | ORT lowbit b1 (ms) | ORT lowbit b64 (ms) | TorchSharp b1 (ms) | TorchSharp b64 (ms) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
var rows = new List<(string Arch, int Depth, double OrtB1, double OrtB64)>();
try
{
    foreach (var arch in new[] { "cifar-teacher", "cifar-student-1", "cifar-student-2", "cifar-student-3" })
    {
        torch.manual_seed(1);
        using var model = ModelZoo.Create(arch, input);
        model.eval();
        var depth = model.modules().Count(m => m is TransformableConv2d or TransformableLinear);
        var stats = ModelStats.Measure(model, input);
        var teacher = arch == "cifar-teacher";
        var weights = model.named_parameters().Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && p.parameter.dim() >= 2).Select(p => p.name).ToList();
        var encodings = teacher ? new Dictionary<string, TensorEncoding>()
            : weights.Skip(1).SkipLast(1).ToDictionary(n => n, _ => (TensorEncoding)new UniformEncoding(4, 256, "uniform"));
        var qsc = Path.Combine(dir, arch + ".qsc");
        CompressedCheckpoint.Save(qsc, model, new CompressedModelDescription(arch, 1, 1, input, "cifar10", null,
            new QuantizationSpec { Bits = 4, BucketSize = 256 }, teacher ? Methods.FullPrecision : Methods.QuantizedDistillation), encodings);

        (double B1, double B64) Ort(OnnxWeightFormat format)
        {
            using var session = OnnxModelSession.FromBytes(OnnxExporter.Export(qsc, format).Model, threads);
            return (OnnxModelEvaluator.MedianMs(session, 1, 5, iterations), OnnxModelEvaluator.MedianMs(session, 64, 5, iterations));
        }

        var f = Ort(OnnxWeightFormat.Float);
        var l = teacher ? (double.NaN, double.NaN) : Ort(OnnxWeightFormat.LowBit);
        var t1 = LatencyProbe.MedianMs(model, input, 1, warmup: 5, iterations: iterations);
        var t64 = LatencyProbe.MedianMs(model, input, 64, warmup: 5, iterations: iterations);
        rows.Add((arch, depth, f.B1, f.B64));
        string Ms(double v) => double.IsNaN(v) ? "—" : v.ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine($"| {arch} | {depth} | {stats.Parameters:N0} | {stats.Flops / 1e6:F1} | {Ms(f.B1)} | {Ms(f.B64)} | {Ms(l.Item1)} | {Ms(l.Item2)} | {Ms(t1)} | {Ms(t64)} |");
    }
}
finally
{
    Directory.Delete(dir, recursive: true);
}

Console.WriteLine();
Console.WriteLine("| student | depth vs teacher | ORT speed-up b1 | ORT speed-up b64 |");
Console.WriteLine("|---|---:|---:|---:|");
var t = rows[0];
foreach (var s in rows.Skip(1))
    Console.WriteLine($"| {s.Arch} | {s.Depth}/{t.Depth} = {(double)s.Depth / t.Depth:F2} | {t.OrtB1 / s.OrtB1:F2}× | {t.OrtB64 / s.OrtB64:F2}× |");
