using System.Buffers.Binary;
using System.Text;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>
/// A seeded mutation fuzzer for protobuf (ONNX) model files. <see cref="Generate"/> is a pure function of
/// (run seed, iteration): the same pair always yields the same bytes, so a failure is reproduced from the
/// two numbers alone. Mutations are byte-level (bit flips, interesting bytes, insert/delete, truncation,
/// splicing) and structure-aware: the input is parsed leniently into a protobuf field tree, so varints,
/// length prefixes, wire types and whole fields can be targeted, and mutated trees are re-serialized with
/// consistent lengths so a change deep inside survives the outer framing.
/// </summary>
public sealed class MutationFuzzer
{
    private readonly IReadOnlyList<byte[]> _seeds;
    private readonly ulong _runSeed;

    private readonly IReadOnlyList<int> _preferred;
    private readonly byte[][] _dictionary;

    /// <param name="seeds">Inputs to mutate.</param>
    /// <param name="runSeed">Makes the run reproducible.</param>
    /// <param name="preferred">Indices of the seeds that load (mutated 3 times in 4); the rest are known-bad inputs.</param>
    public MutationFuzzer(IReadOnlyList<byte[]> seeds, ulong runSeed, IReadOnlyList<int>? preferred = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("need at least one seed", nameof(seeds));
        _seeds = seeds;
        _runSeed = runSeed;
        _preferred = preferred is { Count: > 0 } ? preferred : Enumerable.Range(0, seeds.Count).ToList();
        // Strings worth swapping in: every short text in the seeds (value names, op types, attribute names) plus a few.
        var words = new HashSet<string>(StringComparer.Ordinal) { "", "x", "y", "ai.onnx", "com.microsoft", "Constant", "Identity", "If", "Loop", "axis", "axes", "value", "value_ints", "location", "offset", "length" };
        foreach (var seed in seeds)
        {
            var tree = WireTree.TryParse(seed, 0, seed.Length, 0);
            if (tree is null) continue;
            var all = new List<(List<WireField>, int)>();
            WireTree.Collect(tree, all);
            foreach (var (p, i) in all)
                if (p[i].WireType == 2 && p[i].Children is null && p[i].Payload.Length is > 0 and <= 40 && p[i].Payload.All(c => c is >= 0x20 and < 0x7F))
                    words.Add(Encoding.ASCII.GetString(p[i].Payload));
        }
        _dictionary = words.OrderBy(w => w, StringComparer.Ordinal).Select(Encoding.UTF8.GetBytes).ToArray();
    }

    /// <summary>Relative weights: structure-aware mutations that keep the framing valid dominate, so most cases get past the parser.</summary>
    private static readonly (Mutation Kind, int Weight)[] s_weights =
    [
        (Mutation.BitFlip, 4), (Mutation.InterestingByte, 3), (Mutation.Truncate, 1), (Mutation.InsertBytes, 2),
        (Mutation.DeleteBytes, 2), (Mutation.SpliceBytes, 1), (Mutation.CorruptVarint, 2), (Mutation.CorruptLengthPrefix, 2),
        (Mutation.SwapWireType, 2), (Mutation.HugeVarintField, 12), (Mutation.InterestingFixed, 4), (Mutation.DuplicateField, 6),
        (Mutation.DeleteField, 6), (Mutation.SwapSiblings, 4), (Mutation.ChangeFieldNumber, 5), (Mutation.MutateInsidePayload, 6),
        (Mutation.SpliceField, 5), (Mutation.ReplaceString, 10), (Mutation.InterestingRawInt, 10), (Mutation.IrLevel, 16),
    ];
    private static readonly int s_totalWeight = s_weights.Sum(w => w.Weight);

    private static Mutation PickMutation(Random rng)
    {
        int r = rng.Next(s_totalWeight);
        foreach (var (k, w) in s_weights) { if (r < w) return k; r -= w; }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>One mutated input and a human-readable log of what was done to which seed.</summary>
    public (byte[] Bytes, string Description) Generate(long iteration)
    {
        // System.Random(int) uses the stable legacy algorithm, so this is reproducible across runs and machines.
        var rng = new Random((int)(SplitMix(_runSeed ^ SplitMix((ulong)iteration)) & 0x7FFFFFFF));
        int seedIndex = rng.Next(4) == 0 ? rng.Next(_seeds.Count) : _preferred[rng.Next(_preferred.Count)];
        var data = (byte[])_seeds[seedIndex].Clone();
        var log = new StringBuilder($"seed#{seedIndex}");
        // Mostly few stacked mutations (small deltas find precise bugs), sometimes many (deep corruption).
        int count = rng.Next(16) switch { < 9 => 1, < 13 => 2, < 15 => 3 + rng.Next(3), _ => 6 + rng.Next(10) };
        for (int i = 0; i < count; i++)
        {
            var kind = PickMutation(rng);
            data = Apply(kind, data, rng, out var what);
            log.Append(' ').Append(kind).Append(what);
        }
        return (data, log.ToString());
    }

    public static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private enum Mutation
    {
        BitFlip, InterestingByte, Truncate, InsertBytes, DeleteBytes, SpliceBytes,
        CorruptVarint, CorruptLengthPrefix, SwapWireType, HugeVarintField, InterestingFixed,
        DuplicateField, DeleteField, SwapSiblings, ChangeFieldNumber, MutateInsidePayload, SpliceField, ReplaceString, InterestingRawInt, IrLevel,
    }

    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x08, 0x10, 0x3A];

    /// <summary>Values for varints: boundaries of int32/int64/uint, huge dims, small counts, negatives.</summary>
    private static readonly ulong[] s_interestingVarints =
    [
        0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 25, 64, 127, 128, 255, 256, 1000, 4096, 65535, 65536, 100_000,
        1_000_000, 0x3FFFFFFF, 0x7FFFFFFE, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 1UL << 40,
        (ulong)long.MaxValue, 1UL << 63, ulong.MaxValue, unchecked((ulong)-2L), unchecked((ulong)-1000L),
        unchecked((ulong)(long)int.MinValue), 46341, 3037000500,
    ];

    private static readonly uint[] s_interestingFloats =
    [
        0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F7FFFFF,
        0x00000001, 0x4F000000, 0xCF000000, 0x5F000000,
    ];

    private byte[] Apply(Mutation kind, byte[] data, Random rng, out string what)
    {
        what = "";
        switch (kind)
        {
            case Mutation.BitFlip:
            {
                if (data.Length == 0) return data;
                int flips = 1 + rng.Next(4);
                var d = (byte[])data.Clone();
                for (int i = 0; i < flips; i++) { int p = rng.Next(d.Length); d[p] ^= (byte)(1 << rng.Next(8)); what += $"@{p}"; }
                return d;
            }
            case Mutation.InterestingByte:
            {
                if (data.Length == 0) return data;
                var d = (byte[])data.Clone();
                int p = rng.Next(d.Length);
                d[p] = s_interestingBytes[rng.Next(s_interestingBytes.Length)];
                what = $"@{p}={d[p]:X2}";
                return d;
            }
            case Mutation.Truncate:
            {
                if (data.Length == 0) return data;
                int n = rng.Next(data.Length);
                what = $"@{n}";
                return data[..n];
            }
            case Mutation.InsertBytes:
            {
                int p = rng.Next(data.Length + 1);
                int n = 1 + rng.Next(8);
                var ins = new byte[n];
                for (int i = 0; i < n; i++) ins[i] = rng.Next(2) == 0 ? s_interestingBytes[rng.Next(s_interestingBytes.Length)] : (byte)rng.Next(256);
                what = $"@{p}+{n}";
                return [.. data.AsSpan(0, p), .. ins, .. data.AsSpan(p)];
            }
            case Mutation.DeleteBytes:
            {
                if (data.Length == 0) return data;
                int p = rng.Next(data.Length);
                int n = 1 + rng.Next(Math.Min(16, data.Length - p));
                what = $"@{p}-{n}";
                return [.. data.AsSpan(0, p), .. data.AsSpan(p + n)];
            }
            case Mutation.IrLevel:
            {
                var mutated = IrMutator.TryMutate(data, rng, out what);
                return mutated ?? Apply(Mutation.HugeVarintField, data, rng, out what);
            }
            case Mutation.SpliceBytes:
            {
                var other = _seeds[rng.Next(_seeds.Count)];
                int a = rng.Next(data.Length + 1), b = rng.Next(other.Length + 1);
                what = $"@{a}<-{b}";
                return [.. data.AsSpan(0, a), .. other.AsSpan(b)];
            }
        }

        // Structure-aware mutations: need a field tree.
        var root = WireTree.TryParse(data, 0, data.Length, 0);
        if (root is null || root.Count == 0)
            return Apply(Mutation.BitFlip, data, rng, out what);
        var all = new List<(List<WireField> Parent, int Index)>();
        WireTree.Collect(root, all);
        (List<WireField> Parent, int Index) Pick(Func<WireField, bool> filter)
        {
            var c = all.Where(x => filter(x.Parent[x.Index])).ToList();
            return c.Count == 0 ? default : c[rng.Next(c.Count)];
        }

        switch (kind)
        {
            case Mutation.CorruptVarint:
            {
                // Byte-level at a real varint position: overlong, unterminated, 11-byte or maximal forms.
                var (p, i) = Pick(f => f.WireType == 0);
                if (p is null) break;
                var f = p[i];
                byte[] enc = rng.Next(5) switch
                {
                    0 => Enumerable.Repeat((byte)0x80, 1 + rng.Next(12)).ToArray(),                       // unterminated
                    1 => [.. Enumerable.Repeat((byte)0xFF, 10), 0x01],                                     // 11 bytes
                    2 => [.. Enumerable.Repeat((byte)0xFF, 9), 0x7F],                                      // >64 bits
                    3 => [.. Enumerable.Repeat((byte)0x80, rng.Next(1, 9)), 0x00],                         // overlong zero
                    _ => [.. Enumerable.Repeat((byte)0xFF, 9), 0x01],                                      // 2^64-1
                };
                f.RawOverride = enc;
                what = $"#{f.Number}";
                return WireTree.Serialize(root);
            }
            case Mutation.CorruptLengthPrefix:
            {
                var (p, i) = Pick(f => f.WireType == 2);
                if (p is null) break;
                var f = p[i];
                long len = f.EncodedLength();
                ulong bad = rng.Next(6) switch
                {
                    0 => (ulong)Math.Max(0, len - 1 - rng.Next(3)),
                    1 => (ulong)(len + 1 + rng.Next(3)),
                    2 => 0,
                    3 => (ulong)(len * 2 + 1),
                    4 => s_interestingVarints[rng.Next(s_interestingVarints.Length)],
                    _ => (ulong)rng.Next(1 << 20),
                };
                f.LengthOverride = bad;
                what = $"#{f.Number}:{len}->{bad}";
                return WireTree.Serialize(root);
            }
            case Mutation.SwapWireType:
            {
                var (p, i) = Pick(_ => true);
                var f = p[i];
                int nt = rng.Next(6);
                if (nt == f.WireType) nt = (nt + 1) % 6;
                f.TagWireTypeOverride = nt;
                what = $"#{f.Number}:{f.WireType}->{nt}";
                return WireTree.Serialize(root);
            }
            case Mutation.HugeVarintField:
            {
                var (p, i) = Pick(f => f.WireType == 0 || (f.WireType == 2 && f.Children is null && f.Payload.Length > 0 && f.Payload.Length < 64));
                if (p is null) break;
                var f = p[i];
                ulong v = s_interestingVarints[rng.Next(s_interestingVarints.Length)];
                if (rng.Next(4) == 0) v = unchecked((ulong)-(long)v);
                if (f.WireType == 0) f.Varint = v;
                else
                {
                    // A packed varint list (dims, ints, int64_data ...): replace one element.
                    var vals = WireTree.ReadPackedVarints(f.Payload);
                    if (vals is null || vals.Count == 0) { f.Payload = WireTree.Varint(v); }
                    else { vals[rng.Next(vals.Count)] = v; f.Payload = [.. vals.SelectMany(WireTree.Varint)]; }
                }
                what = $"#{f.Number}={unchecked((long)v)}";
                return WireTree.Serialize(root);
            }
            case Mutation.InterestingFixed:
            {
                var (p, i) = Pick(f => f.WireType is 1 or 5 || (f.WireType == 2 && f.Children is null && f.Payload.Length >= 4));
                if (p is null) break;
                var f = p[i];
                var payload = (byte[])f.Payload.Clone();
                int at = f.WireType == 2 ? rng.Next(payload.Length / 4) * 4 : 0;
                if (f.WireType == 1) BinaryPrimitives.WriteUInt64LittleEndian(payload, rng.Next(2) == 0 ? 0x7FF8000000000000UL : 0x7FF0000000000000UL);
                else BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(at), s_interestingFloats[rng.Next(s_interestingFloats.Length)]);
                f.Payload = payload;
                what = $"#{f.Number}@{at}";
                return WireTree.Serialize(root);
            }
            case Mutation.DuplicateField:
            {
                var (p, i) = Pick(_ => true);
                int copies = rng.Next(8) == 0 ? 2 + rng.Next(30) : 1;
                for (int k = 0; k < copies; k++) p.Insert(i + 1, p[i].DeepClone());
                what = $"#{p[i].Number}x{copies}";
                return WireTree.Serialize(root);
            }
            case Mutation.DeleteField:
            {
                var (p, i) = Pick(_ => true);
                what = $"#{p[i].Number}";
                p.RemoveAt(i);
                return WireTree.Serialize(root);
            }
            case Mutation.SwapSiblings:
            {
                var (p, i) = Pick(_ => true);
                int j = rng.Next(p.Count);
                (p[i], p[j]) = (p[j], p[i]);
                what = $"{i}<->{j}";
                return WireTree.Serialize(root);
            }
            case Mutation.ChangeFieldNumber:
            {
                var (p, i) = Pick(_ => true);
                var f = p[i];
                int old = f.Number;
                f.Number = rng.Next(4) == 0 ? rng.Next(1, 30) : Math.Max(1, f.Number + rng.Next(-3, 4));
                what = $"#{old}->{f.Number}";
                return WireTree.Serialize(root);
            }
            case Mutation.MutateInsidePayload:
            {
                // Byte mutations inside a leaf payload (a string, raw_data, packed list) with the length kept consistent.
                var (p, i) = Pick(f => f.WireType == 2 && f.Children is null);
                if (p is null) break;
                var f = p[i];
                var inner = Apply((Mutation)rng.Next((int)Mutation.SpliceBytes), f.Payload, rng, out var w);
                f.Payload = inner;
                what = $"#{f.Number}{w}";
                return WireTree.Serialize(root);
            }
            case Mutation.SpliceField:
            {
                // Insert a field subtree taken from another seed into a random message of this one.
                var other = _seeds[rng.Next(_seeds.Count)];
                var otherRoot = WireTree.TryParse(other, 0, other.Length, 0);
                if (otherRoot is null || otherRoot.Count == 0) break;
                var donors = new List<(List<WireField> Parent, int Index)>();
                WireTree.Collect(otherRoot, donors);
                var (dp, di) = donors[rng.Next(donors.Count)];
                var containers = new List<List<WireField>> { root };
                foreach (var (pp, ii) in all) if (pp[ii].Children is { } ch) containers.Add(ch);
                var target = containers[rng.Next(containers.Count)];
                target.Insert(rng.Next(target.Count + 1), dp[di].DeepClone());
                what = $"#{dp[di].Number}";
                return WireTree.Serialize(root);
            }
            case Mutation.InterestingRawInt:
            {
                // raw_data of int64/int32 initializers (shapes, pads, starts, indices, axes): one element to an edge value.
                var (p, i) = Pick(f => f.WireType == 2 && f.Children is null && f.Payload.Length is >= 4 and <= 4096 && f.Payload.Length % 4 == 0);
                if (p is null) break;
                var f = p[i];
                var payload = (byte[])f.Payload.Clone();
                long v = rng.Next(3) == 0 ? rng.Next(-4, 12) : unchecked((long)s_interestingVarints[rng.Next(s_interestingVarints.Length)]);
                if (payload.Length % 8 == 0 && rng.Next(4) != 0)
                    BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(rng.Next(payload.Length / 8) * 8), v);
                else
                    BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(rng.Next(payload.Length / 4) * 4), unchecked((int)v));
                f.Payload = payload;
                what = $"#{f.Number}={v}";
                return WireTree.Serialize(root);
            }
            case Mutation.ReplaceString:
            {
                // Rewire a value name, change an op type or attribute name, using words from the seeds.
                var (p, i) = Pick(f => f.WireType == 2 && f.Children is null && f.Payload.All(c => c is >= 0x20 and < 0x7F));
                if (p is null) break;
                var f = p[i];
                f.Payload = _dictionary[rng.Next(_dictionary.Length)];
                what = $"#{f.Number}='{Encoding.UTF8.GetString(f.Payload)}'";
                return WireTree.Serialize(root);
            }
        }
        return Apply(Mutation.InterestingByte, data, rng, out what);
    }
}

/// <summary>One protobuf field in a leniently parsed tree, with optional overrides used to corrupt its encoding.</summary>
public sealed class WireField
{
    public int Number;
    public int WireType;
    public ulong Varint;
    /// <summary>Payload bytes for fixed32/64 and leaf length-delimited fields.</summary>
    public byte[] Payload = [];
    /// <summary>Sub-fields when a length-delimited payload parses as a message.</summary>
    public List<WireField>? Children;
    public int? TagWireTypeOverride;
    public ulong? LengthOverride;
    public byte[]? RawOverride;

    public long EncodedLength() => Children is null ? Payload.Length : WireTree.Serialize(Children).Length;

    public WireField DeepClone() => new()
    {
        Number = Number, WireType = WireType, Varint = Varint, Payload = Payload,
        Children = Children?.Select(c => c.DeepClone()).ToList(),
        TagWireTypeOverride = TagWireTypeOverride, LengthOverride = LengthOverride, RawOverride = RawOverride,
    };
}

public static class WireTree
{
    /// <summary>Parses [start, end) as a message; null if it is not one (then callers treat the bytes as opaque).</summary>
    public static List<WireField>? TryParse(byte[] b, int start, int end, int depth)
    {
        if (depth > 24) return null;
        var list = new List<WireField>();
        int pos = start;
        while (pos < end)
        {
            if (!TryVarint(b, ref pos, end, out ulong key)) return null;
            int wt = (int)(key & 7);
            ulong num = key >> 3;
            if (num == 0 || num > 1000 || wt is 3 or 4 or > 5) return null;
            var f = new WireField { Number = (int)num, WireType = wt };
            switch (wt)
            {
                case 0: if (!TryVarint(b, ref pos, end, out f.Varint)) return null; break;
                case 1: if (end - pos < 8) return null; f.Payload = b[pos..(pos + 8)]; pos += 8; break;
                case 5: if (end - pos < 4) return null; f.Payload = b[pos..(pos + 4)]; pos += 4; break;
                case 2:
                    if (!TryVarint(b, ref pos, end, out ulong len) || len > (ulong)(end - pos)) return null;
                    int l = (int)len;
                    f.Payload = b[pos..(pos + l)];
                    // Only try sub-messages for payloads that do not look like text.
                    if (l > 0 && !LooksLikeText(f.Payload)) f.Children = TryParse(b, pos, pos + l, depth + 1);
                    pos += l;
                    break;
            }
            list.Add(f);
        }
        return list;
    }

    private static bool LooksLikeText(byte[] p) => p.Length <= 64 && p.All(c => c is >= 0x20 and < 0x7F);

    private static bool TryVarint(byte[] b, ref int pos, int end, out ulong v)
    {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= end) return false;
            byte c = b[pos++];
            v |= (ulong)(c & 0x7F) << shift;
            if ((c & 0x80) == 0) return true;
        }
        return false;
    }

    public static List<ulong>? ReadPackedVarints(byte[] p)
    {
        var r = new List<ulong>();
        int pos = 0;
        while (pos < p.Length) { if (!TryVarint(p, ref pos, p.Length, out var v)) return null; r.Add(v); }
        return r;
    }

    public static void Collect(List<WireField> fields, List<(List<WireField>, int)> into)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            into.Add((fields, i));
            if (fields[i].Children is { } c) Collect(c, into);
        }
    }

    public static byte[] Varint(ulong v)
    {
        var r = new List<byte>(10);
        while (v >= 0x80) { r.Add((byte)(v | 0x80)); v >>= 7; }
        r.Add((byte)v);
        return [.. r];
    }

    public static byte[] Serialize(List<WireField> fields)
    {
        using var ms = new MemoryStream();
        foreach (var f in fields) Write(ms, f);
        return ms.ToArray();
    }

    private static void Write(MemoryStream ms, WireField f)
    {
        int wt = f.TagWireTypeOverride ?? f.WireType;
        ms.Write(Varint(((ulong)(uint)f.Number << 3) | (uint)wt));
        if (f.RawOverride is not null) { ms.Write(f.RawOverride); return; }
        switch (f.WireType)
        {
            case 0: ms.Write(Varint(f.Varint)); break;
            case 1 or 5: ms.Write(f.Payload); break;
            case 2:
                var body = f.Children is null ? f.Payload : Serialize(f.Children);
                ms.Write(Varint(f.LengthOverride ?? (ulong)body.Length));
                ms.Write(body);
                break;
        }
    }
}
