using System.Buffers.Binary;

namespace EdgeCompile.Kernels;

/// <summary>
/// The compressed form of a weights blob, used for weights that magnitude pruning made sparse: a canonical Huffman code
/// over the blob's bytes (a zero byte, the most frequent symbol of a sparse blob, costs about one bit). The build writes
/// it only when it is at least 10% smaller; <see cref="WeightBlob.FromResource"/> decodes it once into dense aligned
/// memory, so kernels always read dense weights.
/// <para>Format: the 8 bytes <c>EDGEHUF1</c>, the decoded length (int32, little-endian), 256 code lengths (one byte per
/// byte value, 0 = absent, at most <see cref="MaxCodeLength"/>), then the codes of the bytes in order, most significant
/// bit first. Codes are canonical: sorted by (length, byte value), consecutive within a length.</para>
/// </summary>
public static class WeightCompression
{
    private static ReadOnlySpan<byte> Magic => "EDGEHUF1"u8;
    private const int HeaderLength = 8 + 4 + 256;
    /// <summary>The longest code, in bits.</summary>
    public const int MaxCodeLength = 24;

    /// <summary>True when <paramref name="stored"/> starts with the compressed form's magic.</summary>
    public static bool IsCompressed(ReadOnlySpan<byte> stored) => stored.Length >= HeaderLength && stored[..8].SequenceEqual(Magic);

    /// <summary>The dense length of a compressed blob.</summary>
    public static int DecodedLength(ReadOnlySpan<byte> stored)
    {
        if (!IsCompressed(stored)) throw new InvalidDataException("The weights are not in EdgeCompile's compressed form.");
        int n = BinaryPrimitives.ReadInt32LittleEndian(stored[8..]);
        if (n < 0) throw new InvalidDataException("The compressed weights declare a negative length.");
        return n;
    }

    /// <summary>Decodes <paramref name="stored"/> into <paramref name="dense"/> (exactly <see cref="DecodedLength"/> bytes).
    /// Malformed input (a bad code table, a code that is not in it, a stream that ends early) throws; it never reads or
    /// writes outside the two spans.</summary>
    public static void Decode(ReadOnlySpan<byte> stored, Span<byte> dense)
    {
        int n = DecodedLength(stored);
        if (dense.Length != n) throw new ArgumentException($"The output holds {dense.Length} bytes; the weights decode to {n}.", nameof(dense));
        var lengths = stored.Slice(12, 256);
        Span<int> count = stackalloc int[MaxCodeLength + 1];
        foreach (byte l in lengths)
        {
            if (l > MaxCodeLength) throw new InvalidDataException($"A code length of {l} bits is over the {MaxCodeLength}-bit limit.");
            count[l]++;
        }
        count[0] = 0;
        // Kraft: the code must not be over-subscribed (a complete or incomplete prefix code decodes unambiguously).
        long left = 1;
        for (int len = 1; len <= MaxCodeLength; len++)
        {
            left = (left << 1) - count[len];
            if (left < 0) throw new InvalidDataException("The code table is over-subscribed.");
        }
        Span<int> offset = stackalloc int[MaxCodeLength + 2];
        for (int len = 1; len <= MaxCodeLength; len++) offset[len + 1] = offset[len] + count[len];
        Span<byte> symbols = stackalloc byte[256];
        for (int s = 0; s < 256; s++)
            if (lengths[s] != 0) symbols[offset[lengths[s]]++] = (byte)s;

        var bits = stored[HeaderLength..];
        long bitPos = 0, totalBits = (long)bits.Length * 8;
        for (int i = 0; i < n; i++)
        {
            int code = 0, first = 0, index = 0;
            for (int len = 1; ; len++)
            {
                if (len > MaxCodeLength) throw new InvalidDataException($"Byte {i} of the weights has no code.");
                if (bitPos >= totalBits) throw new InvalidDataException($"The compressed weights end after {i} of {n} bytes.");
                code |= (bits[(int)(bitPos >> 3)] >> (7 - (int)(bitPos & 7))) & 1;
                bitPos++;
                int c = count[len];
                if (code - first < c)
                {
                    dense[i] = symbols[index + code - first];
                    break;
                }
                index += c;
                first = (first + c) << 1;
                code <<= 1;
            }
        }
    }

    /// <summary>The compressed form of <paramref name="dense"/> (deterministic: the same bytes give the same output on every machine).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> dense)
    {
        var freq = new long[256];
        foreach (byte b in dense) freq[b]++;
        var lengths = CodeLengths(freq);
        // Canonical codes: by (length, symbol).
        var codes = new uint[256];
        uint next = 0;
        int prevLen = 0;
        foreach (int s in Enumerable.Range(0, 256).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s))
        {
            next <<= lengths[s] - prevLen;
            prevLen = lengths[s];
            codes[s] = next++;
        }
        long bitCount = 0;
        for (int s = 0; s < 256; s++) bitCount += freq[s] * lengths[s];
        var output = new byte[HeaderLength + (bitCount + 7) / 8];
        Magic.CopyTo(output);
        BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(8), dense.Length);
        for (int s = 0; s < 256; s++) output[12 + s] = (byte)lengths[s];
        long pos = (long)HeaderLength * 8;
        foreach (byte b in dense)
        {
            uint code = codes[b];
            for (int k = lengths[b] - 1; k >= 0; k--, pos++)
                if (((code >> k) & 1) != 0) output[pos >> 3] |= (byte)(0x80 >> (int)(pos & 7));
        }
        return output;
    }

    /// <summary>Huffman code lengths of at most <see cref="MaxCodeLength"/> bits (frequencies are halved until they fit).</summary>
    private static int[] CodeLengths(long[] freq)
    {
        var f = (long[])freq.Clone();
        while (true)
        {
            var lengths = new int[256];
            var present = Enumerable.Range(0, 256).Where(s => f[s] > 0).ToList();
            if (present.Count == 1) { lengths[present[0]] = 1; return lengths; }
            if (present.Count == 0) return lengths;
            // Nodes: leaves 0..255, internal 256... ; the queue orders by (weight, node id), so ties break the same way everywhere.
            var parent = new int[512];
            var queue = new PriorityQueue<int, (long, int)>();
            var weight = new long[512];
            foreach (int s in present) { weight[s] = f[s]; queue.Enqueue(s, (f[s], s)); }
            int nextNode = 256;
            while (queue.Count > 1)
            {
                int a = queue.Dequeue(), b = queue.Dequeue();
                weight[nextNode] = weight[a] + weight[b];
                parent[a] = parent[b] = nextNode;
                queue.Enqueue(nextNode, (weight[nextNode], nextNode));
                nextNode++;
            }
            int root = queue.Dequeue();
            int max = 0;
            foreach (int s in present)
            {
                int len = 0;
                for (int node = s; node != root; node = parent[node]) len++;
                lengths[s] = len;
                max = Math.Max(max, len);
            }
            if (max <= MaxCodeLength) return lengths;
            for (int s = 0; s < 256; s++) if (f[s] > 0) f[s] = Math.Max(1, f[s] >> 1);
        }
    }
}
