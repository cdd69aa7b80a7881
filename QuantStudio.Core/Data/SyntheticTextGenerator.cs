using System.Text;

namespace QuantStudio.Core.Data;

/// <summary>
/// A small stochastic grammar of English-like sentences ("The quiet fox watches a red bird near the
/// river."), grouped into paragraphs. It has real structure for a character LSTM to learn — spelling,
/// agreement of articles, punctuation, line breaks — and a fixed alphabet, so the vocabulary does not
/// depend on the seed.
/// </summary>
public static class SyntheticTextGenerator
{
    private static readonly string[] Nouns =
        ["fox", "bird", "river", "stone", "garden", "king", "queen", "ship", "lamp", "child", "wolf", "tower", "cloud", "horse", "letter", "apple"];
    private static readonly string[] Names = ["Anna", "Boris", "Clara", "David", "Elena", "Felix", "Greta", "Hugo"];
    private static readonly string[] Adjectives =
        ["red", "quiet", "old", "bright", "small", "heavy", "green", "cold", "brave", "gentle", "dark", "empty"];
    /// <summary>Base forms; statements use the third person (<see cref="ThirdPerson"/>), questions the base form.</summary>
    private static readonly string[] Verbs =
        ["watch", "follow", "find", "carry", "paint", "remember", "open", "call", "keep", "leave"];
    private static readonly string[] IntransitiveVerbs = ["sleeps", "waits", "sings", "runs", "falls", "shines", "listens"];
    private static readonly string[] Adverbs = ["slowly", "quietly", "again", "today", "at night", "in silence"];
    private static readonly string[] Prepositions = ["near", "under", "behind", "beside", "over", "into"];
    private static readonly string[] Conjunctions = ["and", "but", "while", "because"];

    /// <summary>Every character the grammar can emit, in token order.</summary>
    public static readonly string Alphabet = BuildAlphabet();

    /// <summary>About <paramref name="characters"/> characters of text (whole sentences; the last may be cut).</summary>
    public static string Generate(int characters, long seed, bool testSplit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(characters);
        var random = DeterministicRandom.For(seed, testSplit ? RandomStreams.TextTest : RandomStreams.TextTrain);
        var text = new StringBuilder(characters + 200);
        while (text.Length < characters)
        {
            var sentences = random.NextInt(1, 5);
            for (var s = 0; s < sentences; s++)
            {
                if (s > 0)
                    text.Append(' ');
                Sentence(random, text);
            }
            text.Append('\n');
        }
        text.Length = characters;
        return text.ToString();
    }

    private static void Sentence(DeterministicRandom r, StringBuilder text)
    {
        var start = text.Length;
        if (r.NextBool(0.15))
        {
            text.Append("Does ");
            NounPhrase(r, text);
            text.Append(' ').Append(Pick(r, Verbs)).Append(' ');
            NounPhrase(r, text);
            text.Append('?');
        }
        else
        {
            Clause(r, text);
            if (r.NextBool(0.3))
            {
                text.Append(", ").Append(Pick(r, Conjunctions)).Append(' ');
                Clause(r, text);
            }
            text.Append(r.NextBool(0.1) ? '!' : '.');
        }
        text[start] = char.ToUpperInvariant(text[start]);
    }

    private static void Clause(DeterministicRandom r, StringBuilder text)
    {
        NounPhrase(r, text);
        text.Append(' ');
        switch (r.NextInt(3))
        {
            case 0:
                text.Append(ThirdPerson(Pick(r, Verbs))).Append(' ');
                NounPhrase(r, text);
                break;
            case 1:
                text.Append(Pick(r, IntransitiveVerbs)).Append(' ').Append(Pick(r, Adverbs));
                break;
            default:
                text.Append(Pick(r, IntransitiveVerbs)).Append(' ').Append(Pick(r, Prepositions)).Append(' ');
                NounPhrase(r, text);
                break;
        }
    }

    private static void NounPhrase(DeterministicRandom r, StringBuilder text)
    {
        if (r.NextBool(0.2))
        {
            text.Append(Pick(r, Names));
            return;
        }
        var adjective = r.NextBool(0.5) ? Pick(r, Adjectives) : null;
        var noun = Pick(r, Nouns);
        var next = adjective ?? noun;
        var article = r.NextBool(0.5) ? "the" : "aeiou".Contains(next[0]) ? "an" : "a";
        text.Append(article).Append(' ');
        if (adjective is not null)
            text.Append(adjective).Append(' ');
        text.Append(noun);
    }

    private static string ThirdPerson(string verb) =>
        verb.EndsWith("ch", StringComparison.Ordinal) ? verb + "es" :
        verb.EndsWith("ry", StringComparison.Ordinal) ? verb[..^1] + "ies" :
        verb + "s";

    private static string Pick(DeterministicRandom r, string[] words) => words[r.NextInt(words.Length)];

    private static string BuildAlphabet()
    {
        var all = string.Concat(Nouns.Concat(Names).Concat(Adjectives).Concat(Verbs).Concat(IntransitiveVerbs)
            .Concat(Adverbs).Concat(Prepositions).Concat(Conjunctions)) + "iesDoesthean .,!?\n";
        var chars = new SortedSet<char>(all);
        foreach (var c in all.Where(char.IsLetter))
            chars.Add(char.ToUpperInvariant(c));
        return string.Concat(chars);
    }
}
