namespace EdgeCompile.Kernels;

/// <summary>Reductions over any set of axes, given as a mask or at run time.</summary>
public static partial class Reduce
{
    /// <summary>
    /// Reduces x (<paramref name="inShape"/>) over the dimensions d with reduced[d] != 0, in any arrangement, into y
    /// (the kept dimensions, row-major). Each output accumulates its inputs in row-major order.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks differ or exceed 8, or a span length does not match the shapes.</exception>
    public static void Axes(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> reduced)
    {
        if (inShape.Length > Data.MaxRank) throw new ArgumentException($"Reduce: rank {inShape.Length} exceeds {Data.MaxRank}.", nameof(inShape));
        if (reduced.Length != inShape.Length) throw new ArgumentException($"Reduce: reduced has {reduced.Length} entries, expected rank {inShape.Length}.", nameof(reduced));
        long xt = 1, yt = 1;
        for (int d = 0; d < inShape.Length; d++)
        {
            if (inShape[d] < 0) throw new ArgumentException($"Reduce: negative dimension {inShape[d]}.", nameof(inShape));
            xt *= inShape[d];
            if (reduced[d] == 0) yt *= inShape[d];
        }
        if (x.Length != xt) throw new ArgumentException($"Reduce: x has {x.Length} elements, expected {xt} (the product of inShape).", nameof(x));
        if (y.Length != yt) throw new ArgumentException($"Reduce: y has {y.Length} elements, expected {yt} (the product of the kept dimensions).", nameof(y));
        AxesCore(op, x, y, inShape, reduced);
    }

    /// <summary>
    /// ONNX Reduce* with the axes input computed at run time. The output shape the class was compiled for
    /// (<paramref name="outShape"/>, with <paramref name="keepDims"/>) must be the one these axes give; empty axes reduce
    /// everything, or copy x when <paramref name="noopWithEmptyAxes"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The axes give another output shape, or a span length does not match the shapes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis is outside [-rank, rank).</exception>
    public static void RuntimeAxes(ReduceOp op, ReadOnlySpan<float> x, ReadOnlySpan<long> axes, Span<float> y,
        ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, bool keepDims, bool noopWithEmptyAxes)
    {
        int rank = inShape.Length;
        if (rank > Data.MaxRank) throw new ArgumentException($"Reduce: rank {rank} exceeds {Data.MaxRank}.", nameof(inShape));
        Span<int> mask = stackalloc int[Data.MaxRank];
        mask = mask[..rank];
        if (RuntimeMask(axes, inShape, outShape, keepDims, noopWithEmptyAxes, mask)) Data.Copy(x, y);
        else Axes(op, x, y, inShape, mask);
    }

    /// <summary>
    /// Turns run-time axes into a mask over <paramref name="inShape"/> and checks that they give the compiled
    /// <paramref name="outShape"/>. Returns true when the reduction is a no-op copy (empty axes with noop_with_empty_axes).
    /// </summary>
    private static bool RuntimeMask(ReadOnlySpan<long> axes, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, bool keepDims, bool noopWithEmptyAxes, Span<int> mask)
    {
        int rank = inShape.Length;
        mask.Clear();
        foreach (long a in axes)
        {
            if (a < -rank || a >= rank) throw new ArgumentOutOfRangeException(nameof(axes), a, $"Reduce: axis {a} is outside [-{rank}, {rank}).");
            mask[(int)(a < 0 ? a + rank : a)] = 1;
        }
        if (axes.Length == 0)
        {
            if (noopWithEmptyAxes)
            {
                if (!outShape.SequenceEqual(inShape)) throw new ArgumentException("Reduce: empty axes with noop_with_empty_axes keep the input shape, not the compiled output shape.", nameof(axes));
                return true;
            }
            mask.Fill(1);
        }
        // The shape these axes give must be the compiled one.
        Span<int> expect = stackalloc int[Data.MaxRank];
        int r = 0;
        for (int d = 0; d < rank; d++)
        {
            if (mask[d] == 0) expect[r++] = inShape[d];
            else if (keepDims) expect[r++] = 1;
        }
        if (!expect[..r].SequenceEqual(outShape))
            throw new ArgumentException("Reduce: these axes give an output shape other than the one the class was compiled for.", nameof(axes));
        return false;
    }

    /// <summary>Per output: an odometer over the reduced dimensions (the specification, and the implementation).</summary>
    internal static void AxesCore(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> reduced)
    {
        int rank = inShape.Length;
        Span<int> keptShape = stackalloc int[Data.MaxRank], keptStride = stackalloc int[Data.MaxRank];
        Span<int> redShape = stackalloc int[Data.MaxRank], redStride = stackalloc int[Data.MaxRank];
        int nk = 0, nr = 0, stride = 1, count = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            if (reduced[d] != 0) { redShape[nr] = inShape[d]; redStride[nr] = stride; nr++; count *= inShape[d]; }
            else { keptShape[nk] = inShape[d]; keptStride[nk] = stride; nk++; }
            stride *= inShape[d];
        }
        // Innermost first in both lists.
        Span<int> ki = stackalloc int[Data.MaxRank];
        Span<int> ri = stackalloc int[Data.MaxRank];
        ki.Clear();
        int kbase = 0;
        for (int o = 0; o < y.Length; o++)
        {
            float acc = Init(op);
            float m = float.NegativeInfinity;
            for (int pass = op == ReduceOp.LogSumExp ? 0 : 1; pass < 2; pass++)
            {
                ri.Clear();
                int off = kbase;
                for (int c = 0; c < count; c++)
                {
                    float v = x[off];
                    if (pass == 0) m = MathF.Max(m, v);
                    else acc = Accumulate(op, acc, v, m);
                    for (int d = 0; d < nr; d++)
                    {
                        if (++ri[d] < redShape[d]) { off += redStride[d]; break; }
                        ri[d] = 0;
                        off -= (redShape[d] - 1) * redStride[d];
                    }
                }
                if (pass == 0 && (float.IsInfinity(m) || float.IsNaN(m))) { acc = m; break; }
            }
            y[o] = op switch
            {
                ReduceOp.Mean => acc / count,
                ReduceOp.L2 => MathF.Sqrt(acc),
                ReduceOp.LogSum => MathF.Log(acc),
                ReduceOp.LogSumExp when !(float.IsInfinity(m) || float.IsNaN(m)) => m + MathF.Log(acc),
                _ => acc,
            };
            for (int d = 0; d < nk; d++)
            {
                if (++ki[d] < keptShape[d]) { kbase += keptStride[d]; break; }
                ki[d] = 0;
                kbase -= (keptShape[d] - 1) * keptStride[d];
            }
        }
    }

    private static float Init(ReduceOp op) => op switch
    {
        ReduceOp.Max => float.NegativeInfinity,
        ReduceOp.Min => float.PositiveInfinity,
        ReduceOp.Prod => 1f,
        _ => 0f,
    };

    private static float Accumulate(ReduceOp op, float acc, float v, float m) => op switch
    {
        ReduceOp.Sum or ReduceOp.Mean or ReduceOp.LogSum => acc + v,
        ReduceOp.Max => MathF.Max(acc, v),
        ReduceOp.Min => MathF.Min(acc, v),
        ReduceOp.Prod => acc * v,
        ReduceOp.SumSquare or ReduceOp.L2 => acc + v * v,
        ReduceOp.L1 => acc + MathF.Abs(v),
        ReduceOp.LogSumExp => acc + MathF.Exp(v - m),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}

/// <summary>ArgMax/ArgMin.</summary>
public static partial class Reduce
{
    /// <summary>
    /// Index (int64) of the largest (<paramref name="max"/>) or smallest element along the middle axis of x viewed as
    /// [outer, axis, inner]; ties give the first index, or the last with <paramref name="selectLastIndex"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shape arguments, or axis is 0.</exception>
    public static void Arg(bool max, ReadOnlySpan<float> x, Span<long> y, int outer, int axis, int inner, bool selectLastIndex)
    {
        if (outer < 0 || axis <= 0 || inner < 0) throw new ArgumentException($"Arg: need outer >= 0, axis > 0, inner >= 0; got {outer}, {axis}, {inner}.", nameof(axis));
        if (x.Length != (long)outer * axis * inner) throw new ArgumentException($"Arg: x has {x.Length} elements, expected outer*axis*inner = {(long)outer * axis * inner}.", nameof(x));
        if (y.Length != (long)outer * inner) throw new ArgumentException($"Arg: y has {y.Length} elements, expected outer*inner = {(long)outer * inner}.", nameof(y));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * axis * inner + i;
                float best = x[b];
                int at = 0;
                for (int a = 1; a < axis; a++)
                {
                    float v = x[b + a * inner];
                    bool better = max ? (selectLastIndex ? v >= best : v > best) : (selectLastIndex ? v <= best : v < best);
                    if (better) { best = v; at = a; }
                }
                y[o * inner + i] = at;
            }
    }
}
