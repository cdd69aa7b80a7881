using System.Text;

namespace QuantStudio.Core.Data;

/// <summary>
/// <c>text</c>: any UTF-8 text file for the character LM. <c>dataset.root</c> is the file itself or a
/// folder holding input.txt; with <c>dataset.download</c>, Tiny Shakespeare is fetched as input.txt.
/// </summary>
public sealed class PlainTextSource : IDatasetSource
{
    public const string DefaultFileName = "input.txt";

    public static RemoteFile TinyShakespeare { get; } = new(DefaultFileName,
        ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"],
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1_115_394);

    public string Name => "text";
    public DatasetKind Kind => DatasetKind.CharText;
    public string Description => "any plain-text file (root = the file, or a folder with input.txt); downloads Tiny Shakespeare";
    public bool IsGenerated => false;
    public IReadOnlyList<RemoteFile> Downloads => [TinyShakespeare];

    public async Task<LoadedDataset> LoadAsync(DatasetLoadContext context)
    {
        var root = context.Root;
        // A file that exists is the text; otherwise a folder (existing, or a path without an extension) holds input.txt.
        var path = File.Exists(root) || (!Directory.Exists(root) && Path.HasExtension(root)) ? root : Path.Combine(root, DefaultFileName);
        if (!File.Exists(path) && context.Spec.Download)
            await context.Downloader.DownloadAsync(TinyShakespeare, path, context.Options.DownloadProgress, context.CancellationToken).ConfigureAwait(false);
        if (!File.Exists(path))
            throw DatasetFiles.Missing(Name, Path.GetDirectoryName(Path.GetFullPath(path))!, [Path.GetFileName(path)],
                $"a UTF-8 text file; dataset.root is the file itself or a folder holding {DefaultFileName}", Downloads);
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException ex)
        {
            throw new DatasetFileException($"'{path}' is not UTF-8 text ({ex.Message}); give the character LM a UTF-8 text file", path, ex);
        }
        if (text.Length == 0)
            throw new DatasetFileException($"'{path}' is empty; the character LM needs some text", path);
        var vocab = CharVocabulary.FromText(text);
        var info = TextInfo.Create(Name, vocab, context.Options.SequenceLength);
        return SplitPlanner.Text(info, vocab.Encode(text), null, context, $"text file '{Path.GetFullPath(path)}'");
    }
}
