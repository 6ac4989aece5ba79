namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// Assigns every intermediate tensor a byte range in one arena so that tensors alive at the same time
/// never overlap. Lifetimes are [first write, last read] in call order, inclusive, so a kernel's inputs
/// and outputs never share bytes. Placement is greedy first-fit by decreasing size (a standard heuristic
/// for this offline interval-packing problem), ranges 64-byte aligned (cache line, SIMD friendly).
/// Deterministic: ties break by first-use order.
/// </summary>
public static class ArenaPlanner
{
    public const int Alignment = 64;

    public sealed record Interval(string Name, long Bytes, int First, int Last);

    public static (Dictionary<string, long> Offsets, long ArenaBytes) Plan(IReadOnlyList<Interval> intervals)
    {
        var placed = new List<(Interval I, long Offset)>();
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long arena = 0;
        var order = intervals.Select((iv, idx) => (iv, idx)).OrderByDescending(p => p.iv.Bytes).ThenBy(p => p.iv.First).ThenBy(p => p.idx);
        foreach (var (iv, _) in order)
        {
            long size = Align(iv.Bytes);
            var conflicts = placed.Where(p => p.I.First <= iv.Last && iv.First <= p.I.Last)
                .Select(p => (Start: p.Offset, End: p.Offset + Align(p.I.Bytes))).OrderBy(r => r.Start).ToList();
            long candidate = 0;
            foreach (var (start, end) in conflicts)
            {
                if (candidate + size <= start) break;
                candidate = Math.Max(candidate, end);
            }
            placed.Add((iv, candidate));
            offsets[iv.Name] = candidate;
            arena = Math.Max(arena, candidate + size);
        }
        return (offsets, arena);
    }

    public static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}
