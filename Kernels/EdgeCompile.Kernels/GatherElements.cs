using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>ONNX GatherElements with indices read at run time.</summary>
public static class GatherElements
{
    /// <summary>
    /// y[c] = data[c with c[axis] = indices[c]] over the indices' shape (y has the indices' shape; negative indices count
    /// from the end of the axis). <paramref name="dataShape"/> and <paramref name="indicesShape"/> have the same rank (1..8).
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match its shape, the ranks differ, the axis is out of range, or the indices exceed the data along another axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index falls outside [-dim, dim) of the axis.</exception>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, Span<T> y, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis) where T : unmanaged
        => Core(data, indices, y, dataShape, indicesShape, axis);

    /// <summary>As <see cref="Run{T}(ReadOnlySpan{T}, ReadOnlySpan{long}, Span{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, int)"/> with int32 indices.</summary>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> indices, Span<T> y, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis) where T : unmanaged
        => Core(data, indices, y, dataShape, indicesShape, axis);

    private static void Core<T, TI>(ReadOnlySpan<T> data, ReadOnlySpan<TI> indices, Span<T> y, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis)
        where T : unmanaged where TI : unmanaged, IBinaryInteger<TI>
    {
        const string K = "GatherElements";
        ValidateElementwiseIndices(K, data.Length, indices.Length, dataShape, indicesShape, axis);
        if (y.Length != indices.Length) throw new ArgumentException($"{K}: y has {y.Length} elements, the indices {indices.Length}.", nameof(y));
        int rank = dataShape.Length;
        Span<int> strides = stackalloc int[rank];
        Span<int> c = stackalloc int[rank];
        ShapeChecks.Strides(dataShape, strides);
        int dim = dataShape[axis];
        for (int e = 0; e < indices.Length; e++)
        {
            int src = ElementSource(indices[e], c, strides, axis, dim, e, K);
            y[e] = data[src];
            ShapeChecks.Next(c, indicesShape);
        }
    }

    /// <summary>Shapes of GatherElements/ScatterElements: same rank 1..8, indices within the data off the axis.</summary>
    internal static void ValidateElementwiseIndices(string kernel, int dataLength, int indicesLength, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis)
    {
        int rank = dataShape.Length;
        if (rank < 1 || rank > Data.MaxRank || indicesShape.Length != rank)
            throw new ArgumentException($"{kernel}: the data and the indices must have the same rank, 1..{Data.MaxRank}.", nameof(indicesShape));
        if ((uint)axis >= (uint)rank) throw new ArgumentException($"{kernel}: axis {axis} is outside [0, {rank}).", nameof(axis));
        ShapeChecks.Length(dataLength, dataShape, kernel, "data");
        ShapeChecks.Length(indicesLength, indicesShape, kernel, "indices");
        for (int d = 0; d < rank; d++)
            if (d != axis && indicesShape[d] > dataShape[d])
                throw new ArgumentException($"{kernel}: the indices exceed the data along axis {d}.", nameof(indicesShape));
    }

    /// <summary>The flat data index addressed by indices element <paramref name="e"/> at coordinates <paramref name="c"/>.</summary>
    internal static int ElementSource<TI>(TI index, ReadOnlySpan<int> c, ReadOnlySpan<int> strides, int axis, int dim, int e, string kernel) where TI : unmanaged, IBinaryInteger<TI>
    {
        long v = long.CreateTruncating(index);
        if (v < 0) v += dim;
        if ((ulong)v >= (ulong)dim)
            throw new ArgumentOutOfRangeException("indices", $"{kernel}: indices[{e}] = {long.CreateTruncating(index)} is outside [-{dim}, {dim}).");
        int src = 0;
        for (int d = 0; d < c.Length; d++) src += (d == axis ? (int)v : c[d]) * strides[d];
        return src;
    }
}
