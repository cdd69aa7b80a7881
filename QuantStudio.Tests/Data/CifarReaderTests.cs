using QuantStudio.Core.Data;
using QuantStudio.Core.Experiments;

namespace QuantStudio.Tests.Data;

public class CifarReaderTests
{
    [Fact]
    public void Cifar10_records_give_labels_and_planar_pixels()
    {
        using var files = new DataTestFiles();
        var path = files.Write("b.bin", DataTestFiles.CifarRecords(3, i => [(byte)(9 - i)]));
        var set = CifarReader.Read([path], labelBytes: 1, classes: 10);
        Assert.Equal([9, 8, 7], set.Labels);
        Assert.Equal((3, 32, 32), (set.Channels, set.Height, set.Width));
        var image = set.Image(1);
        Assert.Equal(1, image[0]);                 // red (0, 0)
        Assert.Equal((1 + 1024) % 256, image[1024]); // green (0, 0)
        Assert.Equal((1 + 2047) % 256, image[2047]); // green (31, 31)
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        using var files = new DataTestFiles();
        var path = files.Write("train.bin", DataTestFiles.CifarRecords(2, i => [(byte)(19 - i), (byte)(99 - i)]));
        var set = CifarReader.Read([path], labelBytes: 2, classes: 100);
        Assert.Equal([99, 98], set.Labels);
        Assert.Equal(1, set.Image(1)[0]);
    }

    [Fact]
    public void A_partial_record_is_reported_as_corrupt()
    {
        using var files = new DataTestFiles();
        var path = files.Write("b.bin", DataTestFiles.CifarRecords(2, _ => [1])[..^10]);
        var ex = Assert.Throws<DatasetFileException>(() => CifarReader.Read([path], 1, 10));
        Assert.Equal(path, ex.Path);
        Assert.Contains("3073-byte records", ex.Message);
    }

    [Fact]
    public void An_out_of_range_label_names_the_likely_mix_up()
    {
        using var files = new DataTestFiles();
        var path = files.Write("b.bin", DataTestFiles.CifarRecords(1, _ => [42]));
        var ex = Assert.Throws<DatasetFileException>(() => CifarReader.Read([path], 1, 10));
        Assert.Contains("label 42", ex.Message);
    }

    [Fact]
    public void The_registry_finds_batches_in_the_extracted_folder()
    {
        using var files = new DataTestFiles();
        for (var b = 1; b <= 5; b++)
            files.Write($"cifar-10-batches-bin/data_batch_{b}.bin", DataTestFiles.CifarRecords(4, i => [(byte)i]));
        files.Write("cifar-10-batches-bin/test_batch.bin", DataTestFiles.CifarRecords(6, i => [(byte)(i % 10)]));
        var data = DatasetRegistry.Load(new DatasetSpec { Name = "cifar10", Root = files.Root, ValidationSplit = 0.25, Augment = true }, seed: 2);
        Assert.Equal(15, data.Train.Count);
        Assert.Equal(5, data.Validation.Count);
        Assert.Equal(6, data.Test.Count);
        Assert.True(data.Augment);
        Assert.Equal(AugmentationPolicy.CropAndFlip, data.Info.Augmentation);
    }

    [Fact]
    public void Missing_cifar_files_name_the_expected_folder_and_archive()
    {
        using var files = new DataTestFiles();
        files.Write("cifar-100-binary/train.bin", DataTestFiles.CifarRecords(1, _ => [0, 0]));
        var ex = Assert.Throws<DatasetFileException>(() => DatasetRegistry.Load(new DatasetSpec { Name = "cifar100", Root = files.Root }, 1));
        Assert.Contains(Path.Combine(Path.GetFullPath(files.Root), "cifar-100-binary"), ex.Message);
        Assert.Contains("missing test.bin", ex.Message);
        Assert.Contains("cifar-100-binary.tar.gz", ex.Message);
        Assert.Contains("\"download\": true", ex.Message);
    }
}
