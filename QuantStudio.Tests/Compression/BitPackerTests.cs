using QuantStudio.Core.Compression;

namespace QuantStudio.Tests.Compression;

public class BitPackerTests
{
    [Fact]
    public void Packs_least_significant_bit_first_as_documented()
    {
        // 3-bit codes 1, 2, 7, 5 → stream bits 100 010 111 101 (bit 0 first) → bytes 0b11010001, 0b00001011.
        var packed = BitPacker.Pack([1, 2, 7, 5], 3);
        Assert.Equal(new byte[] { 0b1101_0001, 0b0000_1011 }, packed);
        Assert.Equal(new byte[] { 1, 2, 7, 5 }, BitPacker.Unpack(packed, 3, 4));
    }

    [Fact]
    public void Round_trips_random_codes_for_every_width_and_length()
    {
        var rng = new Random(7);
        for (var bits = 1; bits <= 8; bits++)
        {
            foreach (var n in new[] { 0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099 })
            {
                var codes = new byte[n];
                for (var i = 0; i < n; i++)
                    codes[i] = (byte)rng.Next(1 << bits);
                var packed = BitPacker.Pack(codes, bits);
                Assert.Equal((n * bits + 7) / 8, packed.Length);
                Assert.Equal(codes, BitPacker.Unpack(packed, bits, n));
            }
        }
    }

    [Fact]
    public void Rejects_codes_that_do_not_fit_and_wrong_lengths()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BitPacker.Pack([4], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitPacker.Pack([0], 9));
        Assert.Throws<ArgumentException>(() => BitPacker.Unpack(new byte[3], 4, 4));
    }
}
