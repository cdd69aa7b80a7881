namespace QuantStudio.Core.Compression;

/// <summary>
/// A canonical Huffman code over byte symbols. Only the code length of each symbol is stored
/// (0 = unused); codes follow canonically: symbols sorted by (length, symbol) receive
/// consecutive codes, the next length continuing from the last code shifted left. Streams are
/// written most significant bit first. Code lengths are capped at <see cref="MaxCodeLength"/>.
/// </summary>
public sealed class HuffmanCode
{
    public const int MaxCodeLength = 24;

    private readonly byte[] lengths;
    private readonly uint[] codes;
    // Canonical decoding tables, per length L: the first code, how many codes, and where their symbols start.
    private readonly uint[] firstCode = new uint[MaxCodeLength + 1];
    private readonly int[] countOfLength = new int[MaxCodeLength + 1];
    private readonly int[] firstIndex = new int[MaxCodeLength + 1];
    private readonly byte[] sortedSymbols;

    private HuffmanCode(byte[] lengths)
    {
        this.lengths = lengths;
        codes = new uint[lengths.Length];
        var order = Enumerable.Range(0, lengths.Length).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s).ToArray();
        sortedSymbols = order.Select(s => (byte)s).ToArray();
        uint code = 0;
        var previousLength = order.Length > 0 ? lengths[order[0]] : 0;
        for (var i = 0; i < order.Length; i++)
        {
            var length = lengths[order[i]];
            code <<= length - previousLength;
            if (countOfLength[length] == 0)
            {
                firstCode[length] = code;
                firstIndex[length] = i;
            }
            countOfLength[length]++;
            codes[order[i]] = code;
            code++;
            previousLength = length;
        }
    }

    /// <summary>Code length per symbol (0 = the symbol does not occur).</summary>
    public ReadOnlySpan<byte> Lengths => lengths;

    public int AlphabetSize => lengths.Length;

    /// <summary>An optimal code (length-limited if needed) for symbols 0..frequencies.Length−1.</summary>
    public static HuffmanCode FromFrequencies(ReadOnlySpan<long> frequencies)
    {
        if (frequencies.Length is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(frequencies), frequencies.Length, "alphabet size must be in 1..256");
        var weights = frequencies.ToArray();
        if (weights.Any(f => f < 0))
            throw new ArgumentException("frequencies must be >= 0", nameof(frequencies));
        while (true)
        {
            var lengths = BuildLengths(weights);
            if (lengths.All(l => l <= MaxCodeLength))
                return new HuffmanCode(lengths);
            // Too deep for the cap: flatten the distribution (keeping every used symbol) and rebuild.
            for (var s = 0; s < weights.Length; s++)
                weights[s] = weights[s] == 0 ? 0 : weights[s] / 2 + 1;
        }
    }

    /// <summary>Rebuilds a code from stored lengths, checking that they form a complete or prefix-free code.</summary>
    public static HuffmanCode FromLengths(ReadOnlySpan<byte> lengths)
    {
        if (lengths.Length is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(lengths), lengths.Length, "alphabet size must be in 1..256");
        double kraft = 0;
        foreach (var l in lengths)
        {
            if (l > MaxCodeLength)
                throw new ArgumentException($"code length {l} exceeds the maximum of {MaxCodeLength}", nameof(lengths));
            if (l > 0)
                kraft += Math.Pow(2, -l);
        }
        if (kraft > 1 + 1e-12)
            throw new ArgumentException("code lengths violate the Kraft inequality (not a prefix code)", nameof(lengths));
        return new HuffmanCode(lengths.ToArray());
    }

    public static long[] Frequencies(ReadOnlySpan<byte> symbols, int alphabetSize)
    {
        var f = new long[alphabetSize];
        foreach (var s in symbols)
        {
            if (s >= alphabetSize)
                throw new ArgumentOutOfRangeException(nameof(symbols), s, $"symbol outside the alphabet 0..{alphabetSize - 1}");
            f[s]++;
        }
        return f;
    }

    /// <summary>Total bits the code spends on symbols with these frequencies.</summary>
    public long EncodedBits(ReadOnlySpan<long> frequencies)
    {
        long bits = 0;
        for (var s = 0; s < frequencies.Length; s++)
        {
            if (frequencies[s] > 0 && lengths[s] == 0)
                throw new ArgumentException($"symbol {s} occurs but has no code", nameof(frequencies));
            bits += frequencies[s] * lengths[s];
        }
        return bits;
    }

    /// <summary>The stream (MSB first, zero padded to a byte) and its length in bits.</summary>
    public (byte[] Stream, long BitCount) Encode(ReadOnlySpan<byte> symbols)
    {
        long total = 0;
        foreach (var s in symbols)
        {
            if (s >= lengths.Length || lengths[s] == 0)
                throw new ArgumentException($"symbol {s} has no code", nameof(symbols));
            total += lengths[s];
        }
        var stream = new byte[(total + 7) / 8];
        ulong buffer = 0; // pending bits, right-aligned
        var filled = 0;
        var o = 0;
        foreach (var s in symbols)
        {
            buffer = (buffer << lengths[s]) | codes[s];
            filled += lengths[s];
            while (filled >= 8)
            {
                filled -= 8;
                stream[o++] = (byte)(buffer >> filled);
            }
        }
        if (filled > 0)
            stream[o] = (byte)(buffer << (8 - filled));
        return (stream, total);
    }

    /// <summary>Decodes exactly <paramref name="count"/> symbols that must use exactly <paramref name="bitCount"/> bits.</summary>
    public byte[] Decode(ReadOnlySpan<byte> stream, long bitCount, long count)
    {
        if (bitCount < 0 || (bitCount + 7) / 8 != stream.Length)
            throw new FormatException($"a Huffman stream of {bitCount} bits needs {(bitCount + 7) / 8} bytes, got {stream.Length}");
        var output = new byte[count];
        long position = 0;
        for (var i = 0; i < output.Length; i++)
        {
            uint code = 0;
            var length = 0;
            while (true)
            {
                if (position >= bitCount)
                    throw new FormatException($"the Huffman stream ended after {i} of {count} symbols");
                code = (code << 1) | (uint)((stream[(int)(position >> 3)] >> (7 - (int)(position & 7))) & 1);
                position++;
                length++;
                if (length > MaxCodeLength)
                    throw new FormatException($"invalid Huffman code at symbol {i}");
                var offset = code - firstCode[length];
                if (countOfLength[length] > 0 && code >= firstCode[length] && offset < (uint)countOfLength[length])
                {
                    output[i] = sortedSymbols[firstIndex[length] + (int)offset];
                    break;
                }
            }
        }
        if (position != bitCount)
            throw new FormatException($"the Huffman stream holds {bitCount - position} bits beyond its {count} symbols");
        return output;
    }

    // Classic Huffman construction with deterministic tie breaking (by node id); a lone used
    // symbol gets a 1-bit code so that every symbol costs at least one bit.
    private static byte[] BuildLengths(long[] weights)
    {
        var n = weights.Length;
        var lengths = new byte[n];
        var used = Enumerable.Range(0, n).Where(s => weights[s] > 0).ToArray();
        if (used.Length == 0)
            return lengths;
        if (used.Length == 1)
        {
            lengths[used[0]] = 1;
            return lengths;
        }
        var parent = new int[2 * n];
        var queue = new PriorityQueue<int, (long Weight, int Id)>();
        foreach (var s in used)
            queue.Enqueue(s, (weights[s], s));
        var next = n;
        while (queue.Count > 1)
        {
            queue.TryDequeue(out var a, out var pa);
            queue.TryDequeue(out var b, out var pb);
            parent[a] = next;
            parent[b] = next;
            queue.Enqueue(next, (pa.Weight + pb.Weight, next));
            next++;
        }
        var root = next - 1;
        foreach (var s in used)
        {
            var depth = 0;
            for (var node = s; node != root; node = parent[node])
                depth++;
            lengths[s] = (byte)Math.Min(depth, 255);
        }
        return lengths;
    }
}
