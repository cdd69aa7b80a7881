using System.Formats.Tar;
using System.IO.Compression;

namespace QuantStudio.Core.Data;

/// <summary>
/// CIFAR-10 and CIFAR-100, binary versions. The batch files are looked for in the folder the official
/// archive extracts to (cifar-10-batches-bin/, cifar-100-binary/) and directly in the root; an archive
/// lying in the root is extracted first.
/// </summary>
public sealed class CifarSource : IDatasetSource
{
    private readonly string displayName;
    private readonly string subfolder;
    private readonly IReadOnlyList<string> trainFiles;
    private readonly string testFile;
    private readonly int labelBytes;
    private readonly int classes;
    private readonly Normalization normalization;

    private CifarSource(string name, string displayName, string description, RemoteFile archive, string subfolder,
        IReadOnlyList<string> trainFiles, string testFile, int labelBytes, int classes, Normalization normalization)
    {
        Name = name;
        this.displayName = displayName;
        Description = description;
        Archive = archive;
        this.subfolder = subfolder;
        this.trainFiles = trainFiles;
        this.testFile = testFile;
        this.labelBytes = labelBytes;
        this.classes = classes;
        this.normalization = normalization;
    }

    public string Name { get; }
    public DatasetKind Kind => DatasetKind.Image;
    public string Description { get; }
    public bool IsGenerated => false;
    public RemoteFile Archive { get; }
    public IReadOnlyList<RemoteFile> Downloads => [Archive];

    public static CifarSource Cifar10 { get; } = new("cifar10", "CIFAR-10", "10-class 3×32×32 photos, 50,000 train / 10,000 test (binary version)",
        new RemoteFile("cifar-10-binary.tar.gz", ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170_052_171),
        "cifar-10-batches-bin", [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")], "test_batch.bin", 1, 10,
        new Normalization([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]));

    /// <summary>CIFAR-100 with its 100 fine labels (each record also carries a coarse label, which is skipped).</summary>
    public static CifarSource Cifar100 { get; } = new("cifar100", "CIFAR-100", "100-class 3×32×32 photos, 50,000 train / 10,000 test (binary version, fine labels)",
        new RemoteFile("cifar-100-binary.tar.gz", ["https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"],
            "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"),
        "cifar-100-binary", ["train.bin"], "test.bin", 2, 100,
        new Normalization([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]));

    public async Task<LoadedDataset> LoadAsync(DatasetLoadContext context)
    {
        var root = context.Root;
        var folder = FindBatchFolder(root);
        if (folder is null)
        {
            var archive = Path.Combine(root, Archive.FileName);
            if (!File.Exists(archive) && context.Spec.Download)
                await context.Downloader.DownloadAsync(Archive, archive, context.Options.DownloadProgress, context.CancellationToken).ConfigureAwait(false);
            if (File.Exists(archive))
            {
                Extract(archive, root);
                folder = FindBatchFolder(root);
            }
        }
        if (folder is null)
        {
            var look = Path.Combine(root, subfolder);
            var all = trainFiles.Append(testFile).ToArray();
            var missing = all.Where(f => !File.Exists(Path.Combine(look, f)) && !File.Exists(Path.Combine(root, f)));
            throw DatasetFiles.Missing(Name, look, missing,
                $"{subfolder}/{string.Join(", ", all)} as extracted from {Archive.FileName} (or {Archive.FileName} itself in the root, " +
                "which is extracted on first use)", Downloads);
        }
        var train = CifarReader.Read(trainFiles.Select(f => Path.Combine(folder, f)).ToArray(), labelBytes, classes);
        var test = CifarReader.Read([Path.Combine(folder, testFile)], labelBytes, classes);
        var info = new DatasetInfo
        {
            Name = Name,
            Kind = DatasetKind.Image,
            Channels = 3,
            Height = 32,
            Width = 32,
            NumClasses = classes,
            Normalization = normalization,
            Augmentation = AugmentationPolicy.CropAndFlip,
        };
        return SplitPlanner.Images(info, train, test, context, $"{displayName} folder '{Path.GetFullPath(folder)}'");
    }

    /// <summary>The folder holding every batch file: the archive's subfolder, or the root itself.</summary>
    private string? FindBatchFolder(string root)
    {
        foreach (var candidate in new[] { Path.Combine(root, subfolder), root })
            if (trainFiles.Append(testFile).All(f => File.Exists(Path.Combine(candidate, f))))
                return candidate;
        return null;
    }

    private static void Extract(string archive, string root)
    {
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            TarFile.ExtractToDirectory(gzip, root, overwriteFiles: true);
        }
        catch (InvalidDataException ex)
        {
            throw new DatasetFileException(
                $"'{archive}' is corrupt ({ex.Message}). Delete it and download it again (set dataset.download to true), or extract it by hand into '{Path.GetFullPath(root)}'.",
                archive, ex);
        }
    }
}
