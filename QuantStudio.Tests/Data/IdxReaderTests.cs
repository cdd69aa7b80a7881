using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_values_labels_and_shape_gzipped_or_raw(bool gzip)
    {
        using var files = new DataTestFiles();
        var (pixels, labels) = files.WriteMnistPair("t10k", 5, 4, 3, gzip);
        var suffix = gzip ? ".gz" : "";
        var set = IdxImageSource.ReadPair(files.PathOf("t10k-images-idx3-ubyte" + suffix), files.PathOf("t10k-labels-idx1-ubyte" + suffix));
        Assert.Equal(5, set.Count);
        Assert.Equal((1, 4, 3), (set.Channels, set.Height, set.Width));
        Assert.Equal(pixels, set.Pixels);
        Assert.Equal(labels.Select(l => (int)l), set.Labels);
        Assert.Equal(pixels.AsSpan(2 * 12, 12).ToArray(), set.Image(2).ToArray());
    }

    [Fact]
    public void Gzip_is_detected_by_content_not_by_name()
    {
        using var files = new DataTestFiles();
        var raw = DataTestFiles.Idx([3], [1, 2, 3]);
        var path = files.Write("labels-without-gz-suffix", DataTestFiles.Gzip(raw));
        Assert.Equal(new byte[] { 1, 2, 3 }, IdxReader.Read(path).Data);
    }

    [Fact]
    public void Truncated_file_is_reported_with_its_path_and_sizes()
    {
        using var files = new DataTestFiles();
        var full = DataTestFiles.Idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
        var path = files.Write("t.idx", full[..^3]);
        var ex = Assert.Throws<DatasetFileException>(() => IdxReader.Read(path));
        Assert.Equal(path, ex.Path);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("8 bytes of data but only 5", ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1, 0, 0, 0, 1, 5 }, "not an idx file")]
    [InlineData(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 1, 5, 5, 5, 5 }, "element type is 0x0d")]
    [InlineData(new byte[] { 0, 0, 8 }, "shorter than an idx header")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 5, 6 }, "bytes after")]
    public void Malformed_headers_are_rejected(byte[] content, string fragment)
    {
        using var files = new DataTestFiles();
        var path = files.Write("bad.idx", content);
        var ex = Assert.Throws<DatasetFileException>(() => IdxReader.Read(path));
        Assert.Contains(fragment, ex.Message);
        Assert.Contains("dataset.download", ex.Message);
    }

    [Fact]
    public void Corrupt_gzip_is_reported_as_corrupt()
    {
        using var files = new DataTestFiles();
        var gz = DataTestFiles.Gzip(DataTestFiles.Idx([1000], new byte[1000]));
        gz[gz.Length / 2] ^= 0xFF;
        gz[gz.Length / 2 + 1] ^= 0xFF;
        var path = files.Write("x.gz", gz[..(gz.Length - 4)]);
        var ex = Assert.Throws<DatasetFileException>(() => IdxReader.Read(path));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void Images_and_labels_of_different_counts_do_not_pair()
    {
        using var files = new DataTestFiles();
        files.Write("i", DataTestFiles.Idx([2, 2, 2], new byte[8]));
        files.Write("l", DataTestFiles.Idx([3], [0, 1, 2]));
        var ex = Assert.Throws<DatasetFileException>(() => IdxImageSource.ReadPair(files.PathOf("i"), files.PathOf("l")));
        Assert.Contains("2 images", ex.Message);
        Assert.Contains("3 labels", ex.Message);
    }

    [Fact]
    public void A_test_only_mnist_folder_is_split_by_the_validation_split()
    {
        using var files = new DataTestFiles();
        files.WriteMnistPair("t10k", 50, 28, 28, gzip: true);
        var spec = new DatasetSpec { Name = "mnist", Root = files.Root, ValidationSplit = 0.2 };
        var data = DatasetRegistry.Load(spec, seed: 3);
        Assert.Equal(40, data.Train.Count);
        Assert.Equal(10, data.Test.Count);
        Assert.Same(data.Test, data.Validation);
        Assert.Contains("test files only", data.Note);
        Assert.Equal([1L, 28, 28], data.Info.ExampleShape);

        // The two parts are disjoint and together cover every image.
        var train = ((ImageDataSplit)data.Train).Images;
        var test = ((ImageDataSplit)data.Test).Images;
        var firstPixels = Enumerable.Range(0, train.Count).Select(i => train.Image(i)[0])
            .Concat(Enumerable.Range(0, test.Count).Select(i => test.Image(i)[0])).ToHashSet();
        Assert.Equal(50, firstPixels.Count);

        // Same seed, same split; another seed, another split.
        var again = DatasetRegistry.Load(spec, seed: 3);
        Assert.Equal(test.Pixels, ((ImageDataSplit)again.Test).Images.Pixels);
        var other = DatasetRegistry.Load(spec, seed: 4);
        Assert.NotEqual(test.Pixels, ((ImageDataSplit)other.Test).Images.Pixels);
    }

    [Fact]
    public void A_full_mnist_folder_keeps_the_official_test_set_and_holds_out_validation()
    {
        using var files = new DataTestFiles();
        files.WriteMnistPair("train", 30, 28, 28, gzip: false);
        files.WriteMnistPair("t10k", 12, 28, 28, gzip: true);
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "fashion-mnist", Root = files.Root, ValidationSplit = 0.1, Subset = 20 }, seed: 1);
        Assert.Equal(18, data.Train.Count);
        Assert.Equal(2, data.Validation.Count);
        Assert.Equal(12, data.Test.Count);
        Assert.Null(data.Note);
        Assert.Equal("Trouser", data.Info.ClassNames[1]);
    }

    [Fact]
    public void Missing_files_name_the_files_the_folder_and_the_download_option()
    {
        using var files = new DataTestFiles();
        var ex = Assert.Throws<DatasetFileException>(() => DatasetRegistry.Load(new DatasetSpec { Name = "mnist", Root = files.Root }, 1));
        Assert.Contains(Path.GetFullPath(files.Root), ex.Message);
        Assert.Contains("t10k-images-idx3-ubyte.gz", ex.Message);
        Assert.Contains("train-labels-idx1-ubyte.gz", ex.Message);
        Assert.Contains("\"download\": true", ex.Message);
        Assert.Contains("https://ossci-datasets.s3.amazonaws.com/mnist/", ex.Message);

        // With the test pair present and one training file alone, only the missing partner is named.
        files.WriteMnistPair("t10k", 10, 28, 28, gzip: true);
        files.Write("train-images-idx3-ubyte.gz", DataTestFiles.Gzip(DataTestFiles.Idx([1, 28, 28], new byte[784])));
        var partner = Assert.Throws<DatasetFileException>(() => DatasetRegistry.Load(new DatasetSpec { Name = "mnist", Root = files.Root }, 1));
        Assert.Contains("missing train-labels-idx1-ubyte.gz in", partner.Message);
        Assert.DoesNotContain("missing train-images", partner.Message);
    }

    [Fact]
    public void A_test_only_folder_needs_a_held_out_fraction()
    {
        using var files = new DataTestFiles();
        files.WriteMnistPair("t10k", 10, 28, 28, gzip: true);
        var ex = Assert.Throws<ArgumentException>(() =>
            DatasetRegistry.Load(new DatasetSpec { Name = "mnist", Root = files.Root, ValidationSplit = 0 }, 1));
        Assert.Contains("dataset.validation_split", ex.Message);
    }
}
