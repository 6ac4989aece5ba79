namespace EdgeCompile.Kernels;

/// <summary>MaxPool with ONNX's Indices output, any spatial rank (scalar).</summary>
public static class MaxPoolIndices
{
    /// <summary>
    /// y = the window maximum (a NaN tap wins, as in <see cref="WindowNd.Pool"/>; no tap inside the input gives -infinity and
    /// index -1), indices = the flat index into x of the first maximum, counting the batch and channel offsets; with
    /// <paramref name="columnMajor"/> (storage_order 1) the spatial part of the index is column-major.
    /// </summary>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, Span<long> indices, int channels, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations, bool columnMajor)
    {
        int rank = kernel.Length;
        if (rank is < 1 or > 8 || inSpatial.Length != rank || outSpatial.Length != rank || strides.Length != rank || padsBegin.Length != rank || dilations.Length != rank)
            throw new ArgumentException("MaxPoolIndices: geometry spans must all have the spatial rank (1..8).", nameof(kernel));
        long inSize = 1, outSize = 1, taps = 1;
        for (int d = 0; d < rank; d++)
        {
            if (inSpatial[d] < 0 || outSpatial[d] < 0 || kernel[d] < 1 || strides[d] < 1 || dilations[d] < 1 || padsBegin[d] < 0)
                throw new ArgumentException($"MaxPoolIndices: geometry out of range on spatial axis {d}.", nameof(kernel));
            inSize *= inSpatial[d]; outSize *= outSpatial[d]; taps *= kernel[d];
        }
        if (x.Length != channels * inSize || y.Length != channels * outSize || indices.Length != y.Length)
            throw new ArgumentException("MaxPoolIndices: span lengths do not match the shape.", nameof(x));
        Span<int> o = stackalloc int[8], k = stackalloc int[8], coord = stackalloc int[8];
        o.Clear();
        for (int op = 0; op < outSize; op++)
        {
            for (int ch = 0; ch < channels; ch++)
            {
                float best = float.NegativeInfinity;
                int bestAt = -1;
                k.Clear();
                for (int t = 0; t < taps; t++)
                {
                    int idx = 0; bool inside = true;
                    for (int d = 0; d < rank; d++)
                    {
                        int i = o[d] * strides[d] - padsBegin[d] + k[d] * dilations[d];
                        if ((uint)i >= (uint)inSpatial[d]) { inside = false; break; }
                        idx = idx * inSpatial[d] + i;
                    }
                    if (inside)
                    {
                        float v = x[(int)(ch * inSize) + idx];
                        if (bestAt < 0 || v > best || (float.IsNaN(v) && !float.IsNaN(best))) { best = v; bestAt = idx; }
                    }
                    for (int d = rank - 1; d >= 0; d--) { if (++k[d] < kernel[d]) break; k[d] = 0; }
                }
                int at = (int)(ch * outSize) + op;
                y[at] = best;
                if (bestAt < 0) { indices[at] = -1; continue; }
                long spatialIndex = bestAt;
                if (columnMajor)
                {
                    int rm = bestAt;
                    for (int d = rank - 1; d >= 0; d--) { coord[d] = rm % inSpatial[d]; rm /= inSpatial[d]; }
                    long cm = 0;
                    for (int d = rank - 1; d >= 0; d--) cm = cm * inSpatial[d] + coord[d];
                    spatialIndex = cm;
                }
                indices[at] = ch * inSize + spatialIndex;
            }
            for (int d = rank - 1; d >= 0; d--) { if (++o[d] < outSpatial[d]) break; o[d] = 0; }
        }
    }
}
