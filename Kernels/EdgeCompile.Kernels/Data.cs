namespace EdgeCompile.Kernels;

/// <summary>
/// Data movement: Transpose/Slice/Expand/DepthToSpace (one strided copy), Concat blocks, Gather and constant Pad.
/// Generic over the element type; every path is exact.
/// </summary>
public static class Data
{
    /// <summary>The largest rank the strided kernels accept.</summary>
    internal const int MaxRank = 8;

    /// <summary>
    /// y[i] = x[offset + Σ idx_d(i) · strides[d]] over y's <paramref name="shape"/> (row-major). Strides may be
    /// negative (Slice with negative steps) or 0 (Expand). Rank &lt;= 8.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks differ or exceed 8, y is not the product of shape, or an index falls outside x.</exception>
    public static void StridedCopy<T>(ReadOnlySpan<T> x, Span<T> y, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) where T : unmanaged
    {
        ValidateStridedCopy(x.Length, y.Length, offset, shape, strides);
        StridedCopyFast(x, y, offset, shape, strides);
    }

    /// <summary>y = x (same length).</summary>
    /// <exception cref="ArgumentException">x and y differ in length.</exception>
    public static void Copy<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (x.Length != y.Length) throw new ArgumentException($"Copy: x has {x.Length} elements but y has {y.Length}.", nameof(y));
        x.CopyTo(y);
    }

    /// <summary>
    /// Concat building block: copies x viewed as [outer, block] into y viewed as [outer, dstStride] at column
    /// <paramref name="dstOffset"/>.
    /// </summary>
    /// <exception cref="ArgumentException">x is not outer*block long, y is not outer*dstStride long, or the block does not fit.</exception>
    public static void CopyBlocks<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int block, int dstStride, int dstOffset) where T : unmanaged
    {
        ValidateCopyBlocks(x.Length, y.Length, outer, block, dstStride, dstOffset);
        for (int o = 0; o < outer; o++) x.Slice(o * block, block).CopyTo(y.Slice(o * dstStride + dstOffset, block));
    }

    /// <summary>
    /// Gather along an axis: data viewed as [outer, axis, inner], y as [outer, indices.Length, inner];
    /// y[o, j, i] = data[o, indices[j], i], with negative indices counting from the end.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shape arguments.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [-axis, axis).</exception>
    public static void Gather<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, Span<T> y, int outer, int axis, int inner) where T : unmanaged
    {
        ValidateGather(data.Length, indices, y.Length, outer, axis, inner);
        int count = indices.Length;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < count; j++)
            {
                int src = (int)(indices[j] < 0 ? indices[j] + axis : indices[j]);
                data.Slice((o * axis + src) * inner, inner).CopyTo(y.Slice((o * count + j) * inner, inner));
            }
    }

    /// <summary>
    /// Constant padding: y has <paramref name="outShape"/>; x (<paramref name="inShape"/>) lands at offset
    /// <paramref name="padsBegin"/> in every dimension (a negative offset crops); everything else is <paramref name="value"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks differ or exceed 8, or a span is not the product of its shape.</exception>
    public static void PadConstant(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> padsBegin, float value)
    {
        ValidatePad(x.Length, y.Length, inShape, outShape, padsBegin);
        PadConstantFast(x, y, inShape, outShape, padsBegin, value);
    }

    // ---------------------------------------------------------------- validation

    internal static void ValidateStridedCopy(int xLength, int yLength, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        if (rank > MaxRank) throw new ArgumentException($"StridedCopy: rank {rank} exceeds {MaxRank}.", nameof(shape));
        if (strides.Length != rank) throw new ArgumentException($"StridedCopy: strides has {strides.Length} entries, expected rank {rank}.", nameof(strides));
        long total = 1, lo = offset, hi = offset;
        for (int d = 0; d < rank; d++)
        {
            if (shape[d] < 0) throw new ArgumentException($"StridedCopy: negative dimension {shape[d]}.", nameof(shape));
            total *= shape[d];
            if (shape[d] == 0) continue;
            long reach = (long)(shape[d] - 1) * strides[d];
            if (reach < 0) lo += reach; else hi += reach;
        }
        if (yLength != total) throw new ArgumentException($"StridedCopy: y has {yLength} elements, expected {total} (the product of shape).", "y");
        if (total > 0 && (lo < 0 || hi >= xLength))
            throw new ArgumentException($"StridedCopy: indices [{lo}, {hi}] fall outside x of length {xLength}.", "x");
    }

    internal static void ValidateCopyBlocks(int xLength, int yLength, int outer, int block, int dstStride, int dstOffset)
    {
        if (outer < 0 || block < 0 || dstStride < 0) throw new ArgumentException($"CopyBlocks: negative outer={outer}, block={block} or dstStride={dstStride}.", nameof(outer));
        if (dstOffset < 0 || (long)dstOffset + block > dstStride)
            throw new ArgumentException($"CopyBlocks: block [{dstOffset}, {(long)dstOffset + block}) does not fit in a row of {dstStride}.", nameof(dstOffset));
        if (xLength != (long)outer * block) throw new ArgumentException($"CopyBlocks: x has {xLength} elements, expected outer*block = {(long)outer * block}.", "x");
        if (yLength != (long)outer * dstStride) throw new ArgumentException($"CopyBlocks: y has {yLength} elements, expected outer*dstStride = {(long)outer * dstStride}.", "y");
    }

    internal static void ValidateGather(int dataLength, ReadOnlySpan<long> indices, int yLength, int outer, int axis, int inner)
    {
        if (outer < 0 || axis < 0 || inner < 0) throw new ArgumentException($"Gather: negative outer={outer}, axis={axis} or inner={inner}.", nameof(outer));
        if (dataLength != (long)outer * axis * inner) throw new ArgumentException($"Gather: data has {dataLength} elements, expected outer*axis*inner = {(long)outer * axis * inner}.", "data");
        long need = (long)outer * indices.Length * inner;
        if (yLength != need) throw new ArgumentException($"Gather: y has {yLength} elements, expected outer*indices*inner = {need}.", "y");
        foreach (long ix in indices)
            if (ix < -axis || ix >= axis)
                throw new ArgumentOutOfRangeException(nameof(indices), ix, $"Gather: index {ix} is outside [-{axis}, {axis}).");
    }

    internal static void ValidatePad(int xLength, int yLength, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> padsBegin)
    {
        int rank = inShape.Length;
        if (rank > MaxRank) throw new ArgumentException($"PadConstant: rank {rank} exceeds {MaxRank}.", nameof(inShape));
        if (outShape.Length != rank) throw new ArgumentException($"PadConstant: outShape has rank {outShape.Length}, expected {rank}.", nameof(outShape));
        if (padsBegin.Length != rank) throw new ArgumentException($"PadConstant: padsBegin has {padsBegin.Length} entries, expected {rank}.", nameof(padsBegin));
        long xt = 1, yt = 1;
        for (int d = 0; d < rank; d++)
        {
            if (inShape[d] < 0 || outShape[d] < 0) throw new ArgumentException("PadConstant: negative dimension.", nameof(inShape));
            xt *= inShape[d]; yt *= outShape[d];
        }
        if (xLength != xt) throw new ArgumentException($"PadConstant: x has {xLength} elements, expected {xt} (the product of inShape).", "x");
        if (yLength != yt) throw new ArgumentException($"PadConstant: y has {yLength} elements, expected {yt} (the product of outShape).", "y");
    }

    // ---------------------------------------------------------------- scalar references

    /// <summary>The specification of <see cref="StridedCopy"/>: an element-by-element odometer.</summary>
    internal static void StridedCopyScalar<T>(ReadOnlySpan<T> x, Span<T> y, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) where T : unmanaged
    {
        int rank = shape.Length;
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int src = offset;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[src];
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) { src += strides[d]; break; }
                idx[d] = 0;
                src -= (shape[d] - 1) * strides[d];
            }
        }
    }

    /// <summary>The specification of <see cref="CopyBlocks"/>.</summary>
    internal static void CopyBlocksScalar<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int block, int dstStride, int dstOffset) where T : unmanaged
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < block; j++) y[o * dstStride + dstOffset + j] = x[o * block + j];
    }

    /// <summary>The specification of <see cref="Gather"/>.</summary>
    internal static void GatherScalar<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, Span<T> y, int outer, int axis, int inner) where T : unmanaged
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
            {
                long ix = indices[j] < 0 ? indices[j] + axis : indices[j];
                for (int i = 0; i < inner; i++) y[(o * indices.Length + j) * inner + i] = data[(int)((o * axis + ix) * inner + i)];
            }
    }

    /// <summary>The specification of <see cref="PadConstant"/>: each output reads its input position or the value.</summary>
    internal static void PadConstantScalar(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> padsBegin, float value)
    {
        int rank = outShape.Length;
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        for (int i = 0; i < y.Length; i++)
        {
            int src = 0;
            bool inside = true;
            for (int d = 0; d < rank; d++)
            {
                int xi = idx[d] - padsBegin[d];
                if ((uint)xi >= (uint)inShape[d]) { inside = false; break; }
                src = src * inShape[d] + xi;
            }
            y[i] = inside ? x[src] : value;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
    }

    // ---------------------------------------------------------------- fast paths

    /// <summary>Collapses dimensions contiguous in x, then copies whole rows when the innermost stride is 1.</summary>
    internal static void StridedCopyFast<T>(ReadOnlySpan<T> x, Span<T> y, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) where T : unmanaged
    {
        if (y.Length == 0) return;
        Span<int> cs = stackalloc int[MaxRank];   // collapsed shape, innermost first
        Span<int> cst = stackalloc int[MaxRank];  // collapsed strides
        int r = 0;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 1) continue;
            if (r > 0 && strides[d] == cst[r - 1] * cs[r - 1]) { cs[r - 1] *= shape[d]; continue; }
            cs[r] = shape[d]; cst[r] = strides[d]; r++;
        }
        if (r == 0) { y[0] = x[offset]; return; }
        int inner = cs[0], innerStride = cst[0];
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int src = offset;
        for (int yo = 0; yo < y.Length; yo += inner)
        {
            if (innerStride == 1) x.Slice(src, inner).CopyTo(y.Slice(yo, inner));
            else if (innerStride == 0) y.Slice(yo, inner).Fill(x[src]);
            else for (int j = 0, s = src; j < inner; j++, s += innerStride) y[yo + j] = x[s];
            for (int d = 1; d < r; d++)
            {
                if (++idx[d] < cs[d]) { src += cst[d]; break; }
                idx[d] = 0;
                src -= (cs[d] - 1) * cst[d];
            }
        }
    }

    /// <summary>Fills y with the value, then copies each (cropped) innermost row of x into place.</summary>
    internal static void PadConstantFast(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> padsBegin, float value)
    {
        y.Fill(value);
        int rank = inShape.Length;
        if (x.Length == 0 || y.Length == 0) return;
        if (rank == 0) { y[0] = x[0]; return; }
        int last = rank - 1;
        // The columns of an innermost x row that land inside y.
        int colLo = Math.Max(0, -padsBegin[last]);
        int colHi = Math.Min(inShape[last], outShape[last] - padsBegin[last]);
        if (colLo >= colHi) return;
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int rows = x.Length / inShape[last];
        for (int row = 0; row < rows; row++)
        {
            int dst = 0;
            bool inside = true;
            for (int d = 0; d < last; d++)
            {
                int yi = idx[d] + padsBegin[d];
                if ((uint)yi >= (uint)outShape[d]) { inside = false; break; }
                dst = dst * outShape[d] + yi;
            }
            if (inside)
            {
                dst = dst * outShape[last] + colLo + padsBegin[last];
                x.Slice(row * inShape[last] + colLo, colHi - colLo).CopyTo(y.Slice(dst, colHi - colLo));
            }
            for (int d = last - 1; d >= 0; d--)
            {
                if (++idx[d] < inShape[d]) break;
                idx[d] = 0;
            }
        }
    }
}
