namespace QuantStudio.Core.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 (records of 1 label byte + 3072 pixel bytes) and CIFAR-100
/// (1 coarse label byte, 1 fine label byte, 3072 pixel bytes). Pixels are stored as 1024 red, then
/// 1024 green, then 1024 blue bytes, row-major: already the C×H×W layout batches use.
/// </summary>
public static class CifarReader
{
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>Reads one or more batch files into one set; CIFAR-100 uses the fine (100-class) label.</summary>
    public static ImageSet Read(IReadOnlyList<string> paths, int labelBytes, int classes)
    {
        if (labelBytes is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(labelBytes), labelBytes, "CIFAR records carry 1 (CIFAR-10) or 2 (CIFAR-100) label bytes");
        var record = labelBytes + ImageBytes;
        long totalRecords = 0;
        foreach (var path in paths)
        {
            var length = new FileInfo(path).Length;
            if (length == 0 || length % record != 0)
                throw new DatasetFileException(
                    $"'{path}' is not a valid CIFAR binary file: its {length} bytes are not a whole number of {record}-byte records. " +
                    "Replace it with the original file (see docs/datasets.md), or delete it and set dataset.download to true.", path);
            totalRecords += length / record;
        }
        var pixels = new byte[totalRecords * ImageBytes];
        var labels = new int[totalRecords];
        var buffer = new byte[record];
        var n = 0;
        foreach (var path in paths)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            while (IdxReader.ReadFully(file, buffer) == record)
            {
                int label = buffer[labelBytes - 1];
                if (label >= classes)
                    throw new DatasetFileException(
                        $"'{path}' is not a valid CIFAR binary file: record {n} has label {label}, but there are only {classes} classes " +
                        "(is this a CIFAR-10 file read as CIFAR-100, or the other way round?).", path);
                labels[n] = label;
                buffer.AsSpan(labelBytes, ImageBytes).CopyTo(pixels.AsSpan(n * ImageBytes, ImageBytes));
                n++;
            }
        }
        return new ImageSet(pixels, labels, 3, 32, 32);
    }
}
