namespace EdgeCompile.Kernels;

/// <summary>Pad mode (ONNX 'mode').</summary>
public enum PadMode
{
    /// <summary>Fill with the constant value.</summary>
    Constant,
    /// <summary>Mirror without repeating the edge element.</summary>
    Reflect,
    /// <summary>Repeat the edge element.</summary>
    Edge,
    /// <summary>Cyclic (opset 19).</summary>
    Wrap,
}

/// <summary>ONNX Pad (opset 11+) whose pads, constant value or axes are read at run time.</summary>
public static class RuntimePad
{
    /// <summary>
    /// Pads (negative pads crop first) x (<paramref name="inShape"/>) into y (<paramref name="outShape"/>, the compiled
    /// shape). <paramref name="pads"/> is [begin..., end...] for the dims in <paramref name="axes"/> (empty: every dim, in
    /// order; negative axes count from the back); <paramref name="value"/> is the constant fill (one value, or empty for 0).
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shapes, pads/axes/value have the wrong count, an axis is out of range or repeated, a crop leaves a negative size, reflect/edge/wrap pad an axis with nothing left on it, or the run-time parameters give an output shape other than <paramref name="outShape"/>.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> pads, ReadOnlySpan<T> value, ReadOnlySpan<long> axes, Span<T> y,
        ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, PadMode mode) where T : unmanaged
    {
        const string K = "Pad";
        int rank = inShape.Length;
        if (rank > Data.MaxRank || outShape.Length != rank) throw new ArgumentException($"{K}: shapes must have the same rank, at most {Data.MaxRank}.", nameof(outShape));
        ShapeChecks.Length(x.Length, inShape, K, nameof(x));
        ShapeChecks.Length(y.Length, outShape, K, nameof(y));
        if (value.Length > 1) throw new ArgumentException($"{K}: the constant value must be one element, got {value.Length}.", nameof(value));
        int count = axes.Length != 0 ? axes.Length : rank;
        if (pads.Length != 2 * count) throw new ArgumentException($"{K}: pads has {pads.Length} entries; expected 2 × {count}.", nameof(pads));
        Span<long> lo = stackalloc long[rank], before = stackalloc long[rank], kept = stackalloc long[rank];
        Span<long> begin = stackalloc long[rank], end = stackalloc long[rank];
        Span<bool> seen = stackalloc bool[rank];
        begin.Clear(); end.Clear(); seen.Clear();
        for (int i = 0; i < count; i++)
        {
            long a = axes.Length != 0 ? axes[i] : i;
            if (a < -rank || a >= rank) throw new ArgumentException($"{K}: axis {a} is outside [-{rank}, {rank}).", nameof(axes));
            int ax = (int)(a < 0 ? a + rank : a);
            if (seen[ax]) throw new ArgumentException($"{K}: axis {ax} is repeated.", nameof(axes));
            seen[ax] = true;
            begin[ax] = pads[i]; end[ax] = pads[count + i];
        }
        for (int d = 0; d < rank; d++)
        {
            long dim = inShape[d];
            lo[d] = Math.Max(0, -begin[d]);
            long hi = dim - Math.Max(0, -end[d]);
            kept[d] = hi - lo[d];
            before[d] = Math.Max(0, begin[d]);
            long after = Math.Max(0, end[d]);
            if (kept[d] < 0) throw new ArgumentException($"{K}: pads {begin[d]}, {end[d]} crop axis {d} of size {dim} below zero.", nameof(pads));
            if (kept[d] + before[d] + after != outShape[d]) throw new ArgumentException($"{K}: the run-time pads give an output shape other than the compiled one.", nameof(pads));
            if (kept[d] == 0 && outShape[d] > 0 && mode != PadMode.Constant) throw new ArgumentException($"{K}: cannot pad axis {d} in {mode} mode: nothing is left on it.", nameof(pads));
        }
        if (y.Length == 0) return;
        T fill = value.Length == 1 ? value[0] : default;
        Span<int> inStrides = stackalloc int[rank], oc = stackalloc int[rank];
        ShapeChecks.Strides(inShape, inStrides);
        oc.Clear();
        for (int e = 0; e < y.Length; e++)
        {
            long src = 0;
            for (int d = 0; d < rank; d++)
            {
                long n = kept[d], j = oc[d] - before[d];
                long s = j >= 0 && j < n ? j : mode switch
                {
                    PadMode.Constant => -1,
                    PadMode.Edge => Math.Clamp(j, 0, n - 1),
                    PadMode.Wrap => (j % n + n) % n,
                    _ => Reflect(j, n),
                };
                if (s < 0) { src = -1; break; }
                src += (lo[d] + s) * inStrides[d];
            }
            y[e] = src < 0 ? fill : x[(int)src];
            ShapeChecks.Next(oc, outShape);
        }
    }

    private static long Reflect(long j, long n)
    {
        if (n == 1) return 0;
        long period = 2 * (n - 1);
        long m = (j % period + period) % period;
        return m < n ? m : period - m;
    }
}

/// <summary>ONNX Tile whose repeats are read at run time.</summary>
public static class RuntimeTile
{
    /// <summary>y[c] = x[c mod inShape] over <paramref name="outShape"/> (the compiled shape), which must be inShape × repeats.</summary>
    /// <exception cref="ArgumentException">A span length does not match the shapes, repeats has the wrong count or a negative value, or the repeats give another output shape.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> repeats, Span<T> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape) where T : unmanaged
    {
        const string K = "Tile";
        int rank = inShape.Length;
        if (rank > Data.MaxRank || outShape.Length != rank) throw new ArgumentException($"{K}: shapes must have the same rank, at most {Data.MaxRank}.", nameof(outShape));
        ShapeChecks.Length(x.Length, inShape, K, nameof(x));
        ShapeChecks.Length(y.Length, outShape, K, nameof(y));
        if (repeats.Length != rank) throw new ArgumentException($"{K}: repeats has {repeats.Length} values for rank {rank}.", nameof(repeats));
        for (int d = 0; d < rank; d++)
            if (repeats[d] < 0 || inShape[d] * repeats[d] != outShape[d]) throw new ArgumentException($"{K}: the run-time repeats give an output shape other than the compiled one.", nameof(repeats));
        if (y.Length == 0) return;
        Span<int> inStrides = stackalloc int[rank], oc = stackalloc int[rank];
        ShapeChecks.Strides(inShape, inStrides);
        oc.Clear();
        for (int e = 0; e < y.Length; e++)
        {
            int src = 0;
            for (int d = 0; d < rank; d++) src += oc[d] % inShape[d] * inStrides[d];
            y[e] = x[src];
            ShapeChecks.Next(oc, outShape);
        }
    }
}
