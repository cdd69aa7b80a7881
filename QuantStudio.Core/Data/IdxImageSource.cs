namespace QuantStudio.Core.Data;

/// <summary>
/// MNIST and Fashion-MNIST: four idx files (gzipped or not) in one folder. A folder with only the two
/// t10k files is accepted too: its 10,000 images are then split by <c>dataset.validation_split</c>
/// into training and held-out test examples.
/// </summary>
public sealed class IdxImageSource : IDatasetSource
{
    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";

    private readonly string displayName;
    private readonly Normalization normalization;
    private readonly IReadOnlyList<string> classNames;

    private IdxImageSource(string name, string displayName, string description, IReadOnlyList<RemoteFile> downloads,
        Normalization normalization, IReadOnlyList<string> classNames)
    {
        Name = name;
        this.displayName = displayName;
        Description = description;
        Downloads = downloads;
        this.normalization = normalization;
        this.classNames = classNames;
    }

    public string Name { get; }
    public DatasetKind Kind => DatasetKind.Image;
    public string Description { get; }
    public bool IsGenerated => false;
    public IReadOnlyList<RemoteFile> Downloads { get; }

    /// <summary>MNIST from the mirror torchvision uses (the original site now refuses most automated downloads), then the original.</summary>
    public static IdxImageSource Mnist { get; } = new("mnist", "MNIST", "handwritten digits, 1×28×28, 60,000 train / 10,000 test",
        Files(["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"],
            ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
            ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
            ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
            ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542)),
        new Normalization([0.1307f], [0.3081f]),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    public static IdxImageSource FashionMnist { get; } = new("fashion-mnist", "Fashion-MNIST", "Zalando clothing images, 1×28×28, 60,000 train / 10,000 test",
        Files(["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
            ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
            ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
            ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
            ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148)),
        new Normalization([0.2860f], [0.3530f]),
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    private static RemoteFile[] Files(string[] mirrors, params (string Sha, long Size)[] files)
    {
        string[] names = [TrainImages, TrainLabels, TestImages, TestLabels];
        return names.Select((n, i) => new RemoteFile(n, mirrors.Select(m => m + n).ToArray(), files[i].Sha, files[i].Size)).ToArray();
    }

    public async Task<LoadedDataset> LoadAsync(DatasetLoadContext context)
    {
        var root = context.Root;
        if (context.Spec.Download)
            await DatasetFiles.DownloadMissingAsync(context, Downloads
                .Where(f => DatasetFiles.FindMaybeGzipped(root, f.FileName) is null)
                .Select(f => (f, Path.Combine(root, f.FileName)))).ConfigureAwait(false);

        var testImages = DatasetFiles.FindMaybeGzipped(root, TestImages);
        var testLabels = DatasetFiles.FindMaybeGzipped(root, TestLabels);
        var trainImages = DatasetFiles.FindMaybeGzipped(root, TrainImages);
        var trainLabels = DatasetFiles.FindMaybeGzipped(root, TrainLabels);
        var missing = new List<string>();
        if (trainImages is null != trainLabels is null)
            missing.Add(trainImages is null ? TrainImages : TrainLabels);
        else if (trainImages is null && (testImages is null || testLabels is null))
            missing.AddRange([TrainImages, TrainLabels]);
        if (testImages is null)
            missing.Add(TestImages);
        if (testLabels is null)
            missing.Add(TestLabels);
        if (missing.Count > 0)
            throw DatasetFiles.Missing(Name, root, missing,
                $"{TrainImages}, {TrainLabels}, {TestImages}, {TestLabels} (gzipped or not; the two t10k files alone are enough, " +
                "and are then split by dataset.validation_split)", Downloads);

        var source = $"{displayName} folder '{Path.GetFullPath(root)}'";
        var test = ReadPair(testImages!, testLabels!);
        var train = trainImages is null ? null : ReadPair(trainImages, trainLabels!);
        if (train is not null && (train.Height != test.Height || train.Width != test.Width))
            throw new DatasetFileException($"{source}: training images are {train.Height}×{train.Width} but test images {test.Height}×{test.Width}", root);
        var info = new DatasetInfo
        {
            Name = Name,
            Kind = DatasetKind.Image,
            Channels = 1,
            Height = test.Height,
            Width = test.Width,
            NumClasses = 10,
            Normalization = normalization,
            // A few pixels of shift; no flip, which would turn digits into other shapes.
            Augmentation = new AugmentationPolicy(2, HorizontalFlip: false),
            ClassNames = classNames,
        };
        return train is null
            ? SplitPlanner.Images(info, test, null, context, source)
            : SplitPlanner.Images(info, train, test, context, source);
    }

    /// <summary>Reads an images file and its labels file and checks that they belong together.</summary>
    public static ImageSet ReadPair(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath);
        var labels = IdxReader.Read(labelsPath);
        if (images.Dimensions.Length != 3)
            throw new DatasetFileException($"'{imagesPath}' is not an idx image file: it has {images.Dimensions.Length} dimensions, expected 3 (count, rows, columns)", imagesPath);
        if (labels.Dimensions.Length != 1)
            throw new DatasetFileException($"'{labelsPath}' is not an idx label file: it has {labels.Dimensions.Length} dimensions, expected 1", labelsPath);
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw new DatasetFileException(
                $"'{imagesPath}' holds {images.Dimensions[0]} images but '{labelsPath}' holds {labels.Dimensions[0]} labels: the files do not belong together", imagesPath);
        var ints = new int[labels.Data.Length];
        for (var i = 0; i < ints.Length; i++)
        {
            ints[i] = labels.Data[i];
            if (ints[i] > 9)
                throw new DatasetFileException($"'{labelsPath}' has label {ints[i]} at position {i}; labels must be 0 to 9", labelsPath);
        }
        return new ImageSet(images.Data, ints, 1, images.Dimensions[1], images.Dimensions[2]);
    }
}
