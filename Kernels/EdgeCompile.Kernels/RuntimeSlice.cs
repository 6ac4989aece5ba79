namespace EdgeCompile.Kernels;

/// <summary>ONNX Slice (opset 10+) whose starts/ends/axes/steps are read at run time.</summary>
public static class RuntimeSlice
{
    /// <summary>
    /// Clamps the run-time parameters per the ONNX spec (axes and steps may be empty: all leading axes, steps of 1),
    /// checks that they give the compiled <paramref name="outShape"/>, then copies with <see cref="Data.StridedCopy{T}"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent parameter lengths, a repeated or out-of-range axis, a zero step, or an output shape other than the compiled one.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> starts, ReadOnlySpan<long> ends, ReadOnlySpan<long> axes, ReadOnlySpan<long> steps,
        Span<T> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape) where T : unmanaged
    {
        int rank = inShape.Length;
        if (rank < 1 || rank > Data.MaxRank || outShape.Length != rank) throw new ArgumentException("Slice: shapes must have the same rank, 1..8.", nameof(outShape));
        int count = starts.Length;
        if (ends.Length != count || (axes.Length != 0 && axes.Length != count) || (steps.Length != 0 && steps.Length != count))
            throw new ArgumentException("Slice: starts, ends, axes and steps must have the same length.", nameof(starts));
        Span<int> start = stackalloc int[Data.MaxRank], step = stackalloc int[Data.MaxRank], dims = stackalloc int[Data.MaxRank];
        Span<bool> seen = stackalloc bool[Data.MaxRank];
        for (int d = 0; d < rank; d++) { start[d] = 0; step[d] = 1; dims[d] = inShape[d]; seen[d] = false; }
        for (int i = 0; i < count; i++)
        {
            long ax = axes.Length != 0 ? axes[i] : i;
            if (ax < -rank || ax >= rank) throw new ArgumentException($"Slice: axis {ax} is outside [-{rank}, {rank}).", nameof(axes));
            int a = (int)(ax < 0 ? ax + rank : ax);
            if (seen[a]) throw new ArgumentException($"Slice: axis {a} is repeated.", nameof(axes));
            seen[a] = true;
            long st = steps.Length != 0 ? steps[i] : 1;
            if (st == 0) throw new ArgumentException("Slice: a step is 0.", nameof(steps));
            long dim = inShape[a], s = starts[i], e = ends[i];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            long n;
            if (dim == 0) { s = 0; n = 0; }
            else if (st > 0)
            {
                s = Math.Clamp(s, 0, dim); e = Math.Clamp(e, 0, dim);
                n = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1);
                n = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }
            if (st is > int.MaxValue or < -int.MaxValue) st = st > 0 ? int.MaxValue : -int.MaxValue; // at most one element then
            start[a] = (int)Math.Max(s, 0); step[a] = (int)st; dims[a] = (int)n;
        }
        for (int d = 0; d < rank; d++)
            if (dims[d] != outShape[d]) throw new ArgumentException("Slice: the run-time parameters give an output shape other than the compiled one.", nameof(starts));
        if (y.Length == 0) return;
        Span<int> strides = stackalloc int[rank];
        int offset = 0, inStride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            offset += start[d] * inStride;
            strides[d] = dims[d] <= 1 ? 0 : checked(step[d] * inStride);
            inStride *= inShape[d];
        }
        Data.StridedCopy(x, y, offset, outShape, strides);
    }
}
