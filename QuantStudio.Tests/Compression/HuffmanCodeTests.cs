using QuantStudio.Core.Compression;

namespace QuantStudio.Tests.Compression;

public class HuffmanCodeTests
{
    [Fact]
    public void Builds_the_canonical_code_of_a_hand_worked_example()
    {
        // Frequencies 1, 1, 2: symbol 2 gets 1 bit, symbols 0 and 1 get 2 bits; canonically
        // 2 → 0, 0 → 10, 1 → 11. Stream for [2, 0, 1, 2]: 0 10 11 0 → 0b0101_1000, 6 bits.
        var code = HuffmanCode.FromFrequencies([1, 1, 2]);
        Assert.Equal(new byte[] { 2, 2, 1 }, code.Lengths.ToArray());
        var (stream, bits) = code.Encode([2, 0, 1, 2]);
        Assert.Equal(6, bits);
        Assert.Equal(new byte[] { 0b0101_1000 }, stream);
        Assert.Equal(new byte[] { 2, 0, 1, 2 }, code.Decode(stream, bits, 4));
    }

    [Fact]
    public void Round_trips_random_codes_and_stays_within_one_bit_of_the_entropy()
    {
        var rng = new Random(3);
        foreach (var alphabet in new[] { 2, 3, 16, 100, 256 })
        {
            var symbols = new byte[20_000];
            for (var i = 0; i < symbols.Length; i++)
                symbols[i] = (byte)Math.Min(alphabet - 1, (int)Math.Abs(rng.NextDouble() * rng.NextDouble() * alphabet));
            var frequencies = HuffmanCode.Frequencies(symbols, alphabet);
            var code = HuffmanCode.FromFrequencies(frequencies);
            var (stream, bits) = code.Encode(symbols);
            Assert.Equal(symbols, code.Decode(stream, bits, symbols.Length));

            // Shannon: H ≤ mean length < H + 1 for an optimal prefix code.
            var entropy = frequencies.Where(f => f > 0).Sum(f => -(double)f / symbols.Length * Math.Log2((double)f / symbols.Length));
            var mean = (double)bits / symbols.Length;
            Assert.InRange(mean, entropy - 1e-9, entropy + 1);
            Assert.Equal(bits, code.EncodedBits(frequencies));

            // A code rebuilt from the stored lengths decodes the same stream.
            Assert.Equal(symbols, HuffmanCode.FromLengths(code.Lengths).Decode(stream, bits, symbols.Length));
        }
    }

    [Fact]
    public void Beats_plain_packing_on_a_skewed_distribution()
    {
        // 4-bit codes, 90% zeros: packing costs 4 bits per code, Huffman close to the ~0.9-bit entropy.
        var rng = new Random(5);
        var codes = Enumerable.Range(0, 50_000).Select(_ => rng.NextDouble() < 0.9 ? (byte)0 : (byte)rng.Next(16)).ToArray();
        var encoded = EncodedCodes.Encode(codes, 4);
        Assert.Equal(CodeEncoding.Huffman, encoded.Smaller);
        Assert.True(encoded.HuffmanCodeBytes * 2 < encoded.PackedCodeBytes, $"huffman {encoded.HuffmanCodeBytes} B vs packed {encoded.PackedCodeBytes} B");
        Assert.InRange(encoded.HuffmanMeanBits, 1.0, 1.5);
    }

    [Fact]
    public void A_single_symbol_costs_one_bit_each()
    {
        var code = HuffmanCode.FromFrequencies([0, 0, 5, 0]);
        var (stream, bits) = code.Encode([2, 2, 2, 2, 2]);
        Assert.Equal(5, bits);
        Assert.Equal(new byte[] { 2, 2, 2, 2, 2 }, code.Decode(stream, bits, 5));
    }

    [Fact]
    public void Lengths_are_capped_on_fibonacci_frequencies()
    {
        // Fibonacci weights make a maximally deep tree (depth 39 for 40 symbols) without the cap.
        var freq = new long[40];
        freq[0] = 1;
        freq[1] = 1;
        for (var i = 2; i < freq.Length; i++)
            freq[i] = freq[i - 1] + freq[i - 2];
        var code = HuffmanCode.FromFrequencies(freq);
        Assert.All(code.Lengths.ToArray(), l => Assert.InRange(l, (byte)1, (byte)HuffmanCode.MaxCodeLength));
        var symbols = Enumerable.Range(0, 40).Select(i => (byte)i).Concat(Enumerable.Repeat((byte)39, 100)).ToArray();
        var (stream, bits) = code.Encode(symbols);
        Assert.Equal(symbols, code.Decode(stream, bits, symbols.Length));
    }

    [Fact]
    public void Rejects_truncated_streams_and_invalid_tables()
    {
        var code = HuffmanCode.FromFrequencies([1, 1, 2]);
        var (stream, bits) = code.Encode([0, 1, 0, 1, 0]);
        Assert.Throws<FormatException>(() => code.Decode(stream, bits - 2, 5));
        Assert.Throws<FormatException>(() => code.Decode(stream, bits, 6));
        Assert.Throws<ArgumentException>(() => HuffmanCode.FromLengths([1, 1, 1]));
        Assert.Throws<ArgumentException>(() => code.Encode([3]));
    }
}
