namespace QuantStudio.Core.Data;

/// <summary>A character-level vocabulary: token i is the i-th character of <see cref="Characters"/>.</summary>
public sealed class CharVocabulary
{
    private readonly Dictionary<char, int> index = [];

    public CharVocabulary(string characters)
    {
        for (var i = 0; i < characters.Length; i++)
            if (!index.TryAdd(characters[i], i))
                throw new ArgumentException($"character '{characters[i]}' appears twice in the vocabulary", nameof(characters));
        Characters = characters;
    }

    public string Characters { get; }
    public int Size => Characters.Length;

    /// <summary>The sorted distinct characters of <paramref name="text"/>.</summary>
    public static CharVocabulary FromText(string text) => new(string.Concat(new SortedSet<char>(text)));

    public int[] Encode(string text)
    {
        var tokens = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!index.TryGetValue(text[i], out tokens[i]))
                throw new ArgumentException($"character U+{(int)text[i]:X4} at position {i} is not in the vocabulary", nameof(text));
        }
        return tokens;
    }

    public string Decode(ReadOnlySpan<long> tokens)
    {
        var chars = new char[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
            chars[i] = Characters[(int)tokens[i]];
        return new string(chars);
    }
}
