using QuantStudio.Core.Checkpoints;
using QuantStudio.Core.Data;
using QuantStudio.Core.Evaluation;
using QuantStudio.Core.Experiments;
using QuantStudio.Core.Export.Onnx;
using QuantStudio.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Training;

/// <summary>The ONNX figures of a finished run (summary.json's onnx_* fields).</summary>
/// <param name="Accuracy">The low-bit ONNX student's test accuracy in ONNX Runtime (perplexity for a character model).</param>
/// <param name="Bytes">Size of the run's model-lowbit.onnx.</param>
public sealed record OnnxRunFigures(double? Accuracy, double? Perplexity, long Bytes, Latency StudentLatencyMs, Latency? TeacherLatencyMs);

/// <summary>
/// At the end of a run: exports model.qsc to model-lowbit.onnx in the run's folder, scores it on the test
/// split in ONNX Runtime and times ONNX Runtime at batch 1 and 64 for the student and (exported with float
/// weights to a temporary file) the teacher. An export problem never fails the run: it is reported and the
/// figures are left out.
/// </summary>
public static class OnnxRunReport
{
    public const string FileName = "model-lowbit.onnx";

    public static OnnxRunFigures? Measure(string qscPath, string dir, Module<Tensor, Tensor>? teacher, TeacherSpec? teacherSpec, InputShape shape,
        LoadedDataset data, int batchSize, Lock initLock, Action<string> warn, CancellationToken ct)
    {
        try
        {
            var path = Path.Combine(dir, FileName);
            var export = OnnxExporter.ExportToFile(qscPath, path, OnnxWeightFormat.LowBit);
            // The run's own thread budget (a worker sharing a machine is given fewer threads than its cores).
            var threads = torch.get_num_threads();
            using var student = OnnxModelSession.Open(path, threads);
            var result = OnnxModelEvaluator.Evaluate(student, data, OnnxModelEvaluator.RawPixels(data.Test), batchSize, ct);
            var studentLatency = Latency(student);
            Latency? teacherLatency = null;
            if (teacher is not null && teacherSpec is not null)
            {
                using var teacherSession = OnnxModelSession.FromBytes(TeacherOnnx(teacher, teacherSpec, shape, data, dir, initLock), threads);
                teacherLatency = Latency(teacherSession);
            }
            return new OnnxRunFigures(result.Accuracy, result.Perplexity, export.FileBytes, studentLatency, teacherLatency);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            warn($"ONNX export of the student was not measured: {e.Message}");
            return null;
        }
    }

    private static Latency Latency(OnnxModelSession session)
    {
        var r = OnnxModelEvaluator.Latency(session, warmup: 2, iterations: 7);
        return new Latency(r.Batch1Ms, r.Batch64Ms);
    }

    // The teacher as a full-precision checkpoint (a temporary file), exported with float weights.
    private static byte[] TeacherOnnx(Module<Tensor, Tensor> teacher, TeacherSpec spec, InputShape shape, LoadedDataset data, string dir, Lock initLock)
    {
        var temp = Path.Combine(dir, $"teacher-{Guid.NewGuid():N}.qsc");
        try
        {
            var description = new CompressedModelDescription(spec.Arch, spec.Width, 1, shape, data.Info.Name, data.Info.Normalization,
                new QuantizationSpec(), Methods.FullPrecision);
            // Saving checks the model against a zoo-built one, which draws from torch's global generator.
            lock (initLock)
                CompressedCheckpoint.Save(temp, teacher, description, new Dictionary<string, TensorEncoding>());
            return OnnxExporter.Export(temp, OnnxWeightFormat.Float).Model;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
