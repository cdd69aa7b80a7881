using QuantStudio.Core.Compression;
using QuantStudio.Core.Models;
using QuantStudio.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;
using QuantStudio.Core.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace QuantStudio.Core.Checkpoints;

/// <summary>
/// The compressed checkpoint (.qsc): the model's description and every state_dict entry, quantized
/// ones as packed or Huffman-coded codes with their scales, points or step, the rest as they are,
/// under a format version and a SHA-256 checksum. Loading rebuilds the model through the model zoo.
/// </summary>
public static class CompressedCheckpoint
{
    public const string FileExtension = ".qsc";

    /// <summary>
    /// Writes <paramref name="model"/>'s state_dict to <paramref name="path"/> (atomically). Entries
    /// named in <paramref name="encodings"/> are quantized from the model's current (full-precision)
    /// values; the others are kept as float32, integer buffers as they are. Codes are packed, so the
    /// file is exactly packed_bytes + the unquantized tensors + the header (see <see cref="CompressedCheckpointInfo"/>).
    /// Checking the model against its description builds one from the zoo, which draws from torch's global generator.
    /// </summary>
    public static CompressedCheckpointInfo Save(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings) =>
        Save(path, model, description, encodings, CodeEncodingPolicy.Packed);

    /// <inheritdoc cref="Save(string, Module{Tensor, Tensor}, CompressedModelDescription, IReadOnlyDictionary{string, TensorEncoding})"/>
    /// <param name="codes">Packed, Huffman, or per tensor the smaller of the two (the smallest file).</param>
    public static CompressedCheckpointInfo Save(string path, Module<Tensor, Tensor> model, CompressedModelDescription description,
        IReadOnlyDictionary<string, TensorEncoding> encodings, CodeEncodingPolicy codes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(encodings);
        if (!ModelZoo.IsKnown(description.Arch))
            throw new ArgumentException($"description.Arch: unknown architecture '{description.Arch}'; known: {string.Join(", ", ModelZoo.Names)}, wrn-D-K", nameof(description));

        using var state = model.StateDictOf();
        RequireRebuildable(state, description);
        var unknown = encodings.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"encodings name tensors the model does not have: {string.Join(", ", unknown)}", nameof(encodings));

        var blocks = new List<QswBlock>(state.Count);
        foreach (var (name, tensor) in state)
            blocks.Add(TensorEncoder.Encode(name, tensor, encodings.GetValueOrDefault(name), codes));

        var file = CheckpointFile.Serialize(CheckpointHeader.From(description).ToUtf8(), blocks);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, file);
        File.Move(temp, path, overwrite: true);
        return Describe(file.LongLength, blocks);
    }

    /// <summary>
    /// Reads <paramref name="path"/>, checks magic, version, length and checksum, rebuilds the model
    /// with <see cref="ModelZoo.Create"/>, loads the dequantized weights and installs the activation
    /// quantizers the file names (see <see cref="ActivationQuantizerHooks"/>). The model is in eval mode.
    /// </summary>
    public static LoadedCompressedModel Load(string path)
    {
        var content = Read(path);
        var d = content.Description;
        if (!ModelZoo.IsKnown(d.Arch))
            throw new CompressedCheckpointFormatException($"unknown architecture '{d.Arch}' (known: {string.Join(", ", ModelZoo.Names)}, wrn-D-K)");
        Module<Tensor, Tensor> model;
        try
        {
            model = ModelZoo.Create(d.Arch, d.Input, d.Width, d.Depth);
        }
        catch (ArgumentException e)
        {
            throw new CompressedCheckpointFormatException($"cannot rebuild '{d.Arch}' for input {Describe(d.Input)}: {e.Message}", e);
        }
        try
        {
            using var weights = content.Dequantize();
            CheckMatches(model, weights, d.Arch);
            model.LoadStateDictChecked(weights);
            model.eval();
            var activations = ActivationQuantizer.Problems(d.ActivationQuantizers, model, d.Arch);
            if (activations.Count > 0)
                throw new CompressedCheckpointFormatException(string.Join("; ", activations));
            return new LoadedCompressedModel(model, d, content.Info, ActivationQuantizerHooks.Install(model, d.ActivationQuantizers, d.Arch));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads and checks the file without building the model: the description, the sizes and the stored blocks.</summary>
    public static CompressedCheckpointContent Read(string path)
    {
        var length = new FileInfo(path).Length; // FileNotFoundException for a missing file
        if (length > Array.MaxLength)
            throw new CompressedCheckpointFormatException($"the file is {length} bytes, larger than this reader supports");
        var data = File.ReadAllBytes(path);
        var (header, blocks) = CheckpointFile.Parse(data);
        return new CompressedCheckpointContent(header.ToDescription(), Describe(data.LongLength, blocks), blocks);
    }

    // A file that cannot be loaded back is caught here, where the caller can still fix it, not at load time.
    private static void RequireRebuildable(StateDict state, CompressedModelDescription d)
    {
        Module<Tensor, Tensor> reference;
        try
        {
            reference = ModelZoo.Create(d.Arch, d.Input, d.Width, d.Depth);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"description: cannot build '{d.Arch}' for input {Describe(d.Input)}: {e.Message}", nameof(d), e);
        }
        using (reference)
        using (var own = reference.StateDictOf())
        {
            var problems = Mismatches(own, state, d.Arch, "the model");
            if (problems.Count > 0)
                throw new ArgumentException($"the model does not match its description ({d.Arch}, width {d.Width}, depth {d.Depth}): {string.Join("; ", problems)}", "model");
            var activations = ActivationQuantizer.Problems(d.ActivationQuantizers);
            if (activations.Count == 0)
                activations = ActivationQuantizer.Problems(d.ActivationQuantizers, reference, d.Arch);
            if (activations.Count > 0)
                throw new ArgumentException($"description: {string.Join("; ", activations)}", "description");
        }
    }

    private static void CheckMatches(Module model, StateDict weights, string arch)
    {
        using var own = model.StateDictOf();
        var problems = Mismatches(own, weights, arch, "the file");
        if (problems.Count > 0)
            throw new CompressedCheckpointFormatException(string.Join("; ", problems));
    }

    private static List<string> Mismatches(StateDict expected, StateDict actual, string arch, string where)
    {
        var problems = new List<string>();
        foreach (var (key, target) in expected)
        {
            if (!actual.TryGetValue(key, out var stored))
                problems.Add($"tensor '{key}' of {arch} is missing from {where}");
            else if (!stored.shape.SequenceEqual(target.shape))
                problems.Add($"shape mismatch: tensor '{key}' is [{string.Join(", ", stored.shape)}] in {where} but [{string.Join(", ", target.shape)}] in {arch}");
        }
        problems.AddRange(actual.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"tensor '{k}' in {where} is not part of {arch}"));
        return problems;
    }

    private static string Describe(InputShape s) =>
        s.IsText ? $"text with {s.Classes} symbols" : $"{s.Channels}x{s.Height}x{s.Width} images with {s.Classes} classes";

    /// <summary>The size figures of a file of <paramref name="fileBytes"/> holding <paramref name="blocks"/>.</summary>
    internal static CompressedCheckpointInfo Describe(long fileBytes, IReadOnlyList<QswBlock> blocks)
    {
        var tensors = blocks.Select(TensorInfo).ToList();
        var quantized = tensors.Where(t => t.Sizes is not null).ToList();
        long stored = quantized.Sum(t => t.DataBytes);
        long fullPrecision = tensors.Where(t => t.Sizes is null).Sum(t => t.DataBytes);
        // The model as float32: every floating-point tensor at 4 bytes per element (integer buffers left out).
        long fp32 = blocks.Where(b => b is not RawBlock r || r.DType.IsFloatingPoint()).Sum(b => b.Count * 4);
        return new CompressedCheckpointInfo(fileBytes, fp32, quantized.Sum(t => t.Sizes!.PackedBytes), quantized.Sum(t => t.Sizes!.HuffmanBytes),
            fullPrecision, fileBytes - stored - fullPrecision)
        {
            StoredBytes = stored,
            Tensors = tensors,
        };
    }

    private static CheckpointTensorInfo TensorInfo(QswBlock block)
    {
        (string kind, int? bits, TensorSizes? sizes, CodeEncoding? encoding) = block switch
        {
            QuantizedBlock q => (q.Settings.Scheme == Quantization.QuantizationScheme.Uniform ? "uniform" : "absmax", q.Settings.Bits, q.Sizes, q.Encoding),
            PointsBlock p => ("points", p.Bits, p.Sizes, p.Encoding),
            LsqBlock l => ("lsq", l.Bits, l.Sizes, l.Encoding),
            RawBlock r => (r.DType == ScalarType.Float32 ? "fp32" : "raw", (int?)null, (TensorSizes?)null, (CodeEncoding?)null),
            _ => throw new InvalidOperationException($"tensor '{block.Name}': unexpected block {block.GetType().Name}"),
        };
        var data = sizes is null
            ? ((RawBlock)block).Data.LongLength
            : encoding == CodeEncoding.Packed ? sizes.PackedBytes : sizes.HuffmanBytes;
        return new CheckpointTensorInfo(block.Name, block.Shape, kind, bits, sizes, encoding, data, block.SerializedSize);
    }
}

/// <summary>A checked compressed checkpoint before its model is built.</summary>
public sealed class CompressedCheckpointContent(CompressedModelDescription description, CompressedCheckpointInfo info, IReadOnlyList<QswBlock> blocks)
{
    public CompressedModelDescription Description { get; } = description;
    public CompressedCheckpointInfo Info { get; } = info;
    public IReadOnlyList<QswBlock> Blocks { get; } = blocks;

    /// <summary>The dequantized tensors under their state_dict names (float32, integer buffers as stored); dispose the dict.</summary>
    public StateDict Dequantize()
    {
        var dict = new StateDict();
        try
        {
            foreach (var block in Blocks)
                dict.Add(block.Name, TensorEncoder.Decode(block).DetachFromDisposeScope());
        }
        catch
        {
            dict.Dispose();
            throw;
        }
        return dict;
    }
}
