using System.Buffers.Binary;
using System.IO.Compression;

namespace QuantStudio.Tests.Data;

/// <summary>Writes tiny hand-made dataset files into a temporary folder that is deleted afterwards.</summary>
internal sealed class DataTestFiles : IDisposable
{
    public DataTestFiles()
    {
        Root = Path.Combine(Path.GetTempPath(), "qs-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>An idx file of unsigned bytes with the given dimensions.</summary>
    public static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest))
            gz.Write(data);
        return output.ToArray();
    }

    public string Write(string name, byte[] content)
    {
        var path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>
    /// Writes an MNIST-style pair: <paramref name="count"/> images of rows×cols where image i has every pixel
    /// equal to (i·7 + pixel) mod 256 and label i mod 10.
    /// </summary>
    public (byte[] Pixels, byte[] Labels) WriteMnistPair(string prefix, int count, int rows, int cols, bool gzip)
    {
        var pixels = new byte[count * rows * cols];
        for (var i = 0; i < count; i++)
            for (var p = 0; p < rows * cols; p++)
                pixels[i * rows * cols + p] = (byte)((i * 7 + p) % 256);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        var images = Idx([count, rows, cols], pixels);
        var lab = Idx([count], labels);
        var suffix = gzip ? ".gz" : "";
        Write($"{prefix}-images-idx3-ubyte{suffix}", gzip ? Gzip(images) : images);
        Write($"{prefix}-labels-idx1-ubyte{suffix}", gzip ? Gzip(lab) : lab);
        return (pixels, labels);
    }

    /// <summary>CIFAR records: label byte(s) then 3072 pixel bytes where pixel p of record i is (i + p) mod 256.</summary>
    public static byte[] CifarRecords(int count, Func<int, byte[]> labelBytes)
    {
        var output = new MemoryStream();
        for (var i = 0; i < count; i++)
        {
            output.Write(labelBytes(i));
            for (var p = 0; p < 3072; p++)
                output.WriteByte((byte)((i + p) % 256));
        }
        return output.ToArray();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
