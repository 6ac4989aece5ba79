namespace EdgeCompile.Kernels;

/// <summary>Double-precision reductions over any set of axes (scalar).</summary>
public static partial class Reduce
{
    /// <summary>Double-precision <see cref="Axes(ReduceOp, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>.</summary>
    public static void Axes(ReduceOp op, ReadOnlySpan<double> x, Span<double> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> reduced)
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
        if (x.Length != xt) throw new ArgumentException($"Reduce: x has {x.Length} elements, expected {xt}.", nameof(x));
        if (y.Length != yt) throw new ArgumentException($"Reduce: y has {y.Length} elements, expected {yt}.", nameof(y));
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
        Span<int> ki = stackalloc int[Data.MaxRank];
        Span<int> ri = stackalloc int[Data.MaxRank];
        ki.Clear();
        int kbase = 0;
        for (int o = 0; o < y.Length; o++)
        {
            double acc = op switch { ReduceOp.Max => double.NegativeInfinity, ReduceOp.Min => double.PositiveInfinity, ReduceOp.Prod => 1.0, _ => 0.0 };
            double m = double.NegativeInfinity;
            for (int pass = op == ReduceOp.LogSumExp ? 0 : 1; pass < 2; pass++)
            {
                ri.Clear();
                int off = kbase;
                for (int c = 0; c < count; c++)
                {
                    double v = x[off];
                    if (pass == 0) m = Math.Max(m, v);
                    else acc = op switch
                    {
                        ReduceOp.Sum or ReduceOp.Mean or ReduceOp.LogSum => acc + v,
                        ReduceOp.Max => Math.Max(acc, v),
                        ReduceOp.Min => Math.Min(acc, v),
                        ReduceOp.Prod => acc * v,
                        ReduceOp.SumSquare or ReduceOp.L2 => acc + v * v,
                        ReduceOp.L1 => acc + Math.Abs(v),
                        ReduceOp.LogSumExp => acc + Math.Exp(v - m),
                        _ => throw new ArgumentOutOfRangeException(nameof(op)),
                    };
                    for (int d = 0; d < nr; d++)
                    {
                        if (++ri[d] < redShape[d]) { off += redStride[d]; break; }
                        ri[d] = 0;
                        off -= (redShape[d] - 1) * redStride[d];
                    }
                }
                if (pass == 0 && (double.IsInfinity(m) || double.IsNaN(m))) { acc = m; break; }
            }
            y[o] = op switch
            {
                ReduceOp.Mean => acc / count,
                ReduceOp.L2 => Math.Sqrt(acc),
                ReduceOp.LogSum => Math.Log(acc),
                ReduceOp.LogSumExp when !(double.IsInfinity(m) || double.IsNaN(m)) => m + Math.Log(acc),
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

    /// <summary>Double-precision <see cref="RuntimeAxes(ReduceOp, ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool, bool)"/>.</summary>
    public static void RuntimeAxes(ReduceOp op, ReadOnlySpan<double> x, ReadOnlySpan<long> axes, Span<double> y,
        ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, bool keepDims, bool noopWithEmptyAxes)
    {
        int rank = inShape.Length;
        if (rank > Data.MaxRank) throw new ArgumentException($"Reduce: rank {rank} exceeds {Data.MaxRank}.", nameof(inShape));
        Span<int> mask = stackalloc int[Data.MaxRank];
        mask = mask[..rank];
        if (RuntimeMask(axes, inShape, outShape, keepDims, noopWithEmptyAxes, mask)) Data.Copy(x, y);
        else Axes(op, x, y, inShape, mask);
    }
}
