using System.Runtime.InteropServices;

namespace EdgeCompile.Kernels.Tests;

public class WeightCompressionTests
{
    private static byte[] Sparse(int n, double zeros, int seed)
    {
        var rng = new Random(seed);
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = rng.NextDouble() < zeros ? (byte)0 : (byte)rng.Next(1, 256);
        return b;
    }

    // The theory data is the case name only: xunit serializes every row at discovery, and the "skewed" blob is
    // 22 MB (serialized, it cost about a minute and several GB of test-host memory before any test ran).
    private static byte[] Blob(string name) => name switch
    {
        "empty" => [],
        "one byte" => [7],
        "one symbol" => Enumerable.Repeat((byte)3, 1000).ToArray(),
        "all 256 values" => Enumerable.Range(0, 256 * 4).Select(i => (byte)i).ToArray(),
        "uniform random" => Sparse(50_000, 0, 1),
        "50% zeros" => Sparse(50_000, 0.5, 2),
        "99% zeros" => Sparse(50_000, 0.99, 3),
        // Very skewed counts force the code-length limit (frequencies are halved until every code fits in 24 bits).
        "skewed" => Enumerable.Range(0, 40).SelectMany(k => Enumerable.Repeat((byte)k, 1 << Math.Min(k, 20))).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such blob"),
    };

    public static TheoryData<string> Blobs() =>
        new("empty", "one byte", "one symbol", "all 256 values", "uniform random", "50% zeros", "99% zeros", "skewed");

    [Theory]
    [MemberData(nameof(Blobs))]
    public void Round_trips_and_decodes_through_a_weight_blob(string name)
    {
        byte[] dense = Blob(name);
        var stored = WeightCompression.Encode(dense);
        Assert.True(WeightCompression.IsCompressed(stored), name);
        Assert.Equal(dense.Length, WeightCompression.DecodedLength(stored));
        var back = new byte[dense.Length];
        WeightCompression.Decode(stored, back);
        Assert.Equal(dense, back);
        Assert.Equal(stored, WeightCompression.Encode(dense));   // deterministic
        if (dense.Length > 0)
        {
            var blob = WeightBlob.FromMemory(stored);
            Assert.Equal(dense.Length, blob.Length);
            Assert.Equal(dense, blob.Get<byte>(0, dense.Length).ToArray());
        }
    }

    [Fact]
    public void Sparse_int8_and_float_weights_shrink()
    {
        // Int8 weights as the quantizer makes them (normally distributed, symmetric scale max|w|/127) with the 50%
        // smallest magnitudes zeroed: a zero costs about one bit, the rest about their entropy (~7 bits).
        var rng = new Random(5);
        var w = Enumerable.Range(0, 100_000).Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())).ToArray();
        double scale = w.Max(Math.Abs) / 127, cut = w.Select(Math.Abs).Order().ElementAt(w.Length / 2);
        byte[] q = w.Select(v => Math.Abs(v) < cut ? (byte)0 : (byte)(sbyte)Math.Round(v / scale)).ToArray();
        double int8 = (double)WeightCompression.Encode(q).Length / q.Length;
        var floats = Enumerable.Range(0, 25_000).Select(_ => rng.NextDouble() < 0.5 ? 0f : (float)(rng.NextDouble() * 2 - 1)).ToArray();
        byte[] floatBytes = MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
        double f32 = (double)WeightCompression.Encode(floatBytes).Length / floatBytes.Length;
        Assert.True(int8 < 0.6, $"50%-sparse int8 compresses to {int8:F3}x");
        Assert.True(WeightCompression.Encode(Sparse(100_000, 0, 4)).Length > 100_000, "uniform random bytes cannot compress");
        Assert.True(f32 < 0.75, $"50%-sparse float compresses to {f32:F3}x");
    }

    [Fact]
    public void Malformed_compressed_weights_throw_instead_of_reading_out_of_bounds()
    {
        var stored = WeightCompression.Encode(Sparse(2000, 0.5, 6));
        var dense = new byte[2000];
        // Truncated stream.
        Assert.Throws<InvalidDataException>(() => WeightCompression.Decode(stored.AsSpan(0, stored.Length - 100), dense));
        // Over-subscribed code table: every byte value with a 1-bit code.
        var bad = (byte[])stored.Clone();
        for (int s = 0; s < 256; s++) bad[12 + s] = 1;
        Assert.Throws<InvalidDataException>(() => WeightCompression.Decode(bad, dense));
        // A code length over the limit.
        bad = (byte[])stored.Clone();
        bad[12] = 200;
        Assert.Throws<InvalidDataException>(() => WeightCompression.Decode(bad, dense));
        // A declared length that does not fit the output.
        Assert.Throws<ArgumentException>(() => WeightCompression.Decode(stored, new byte[1999]));
        // An incomplete code whose unused codes appear in the stream: only one symbol, 1-bit code "0", and a stream of 1s.
        var lone = WeightCompression.Encode(Enumerable.Repeat((byte)9, 16).ToArray());
        for (int i = 12 + 256; i < lone.Length; i++) lone[i] = 0xFF;
        Assert.Throws<InvalidDataException>(() => WeightCompression.Decode(lone, new byte[16]));
        Assert.False(WeightCompression.IsCompressed(new byte[300]));
    }
}
