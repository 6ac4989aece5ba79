using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>How a scatter combines an update with the element it lands on (ONNX 'reduction').</summary>
public enum ScatterReduction
{
    /// <summary>Replace (the last write wins).</summary>
    None,
    /// <summary>current + update (integers wrap).</summary>
    Add,
    /// <summary>current × update (integers wrap).</summary>
    Mul,
    /// <summary>The larger (NaN propagates).</summary>
    Max,
    /// <summary>The smaller (NaN propagates).</summary>
    Min,
}

/// <summary>ONNX ScatterElements with indices read at run time.</summary>
public static class ScatterElements
{
    /// <summary>
    /// y = data, then for each element c of indices/updates in row-major order, y[c with c[axis] = indices[c]] = updates[c]
    /// (the last write wins). Negative indices count from the end of the axis.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match its shape, the ranks differ, the axis is out of range, or the indices exceed the data along another axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index falls outside [-dim, dim) of the axis.</exception>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis) where T : unmanaged
        => Core<T, long, Assign<T>>(data, indices, updates, y, dataShape, indicesShape, axis);

    /// <summary>Int32 indices.</summary>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis) where T : unmanaged
        => Core<T, int, Assign<T>>(data, indices, updates, y, dataShape, indicesShape, axis);

    /// <summary>
    /// As Run, combining each update with the element it lands on: add and mul in the element type (integers wrap),
    /// max/min propagate NaN.
    /// </summary>
    public static void Reduce<T>(ScatterReduction op, ReadOnlySpan<T> data, ReadOnlySpan<long> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis) where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case ScatterReduction.None: Core<T, long, Assign<T>>(data, indices, updates, y, dataShape, indicesShape, axis); break;
            case ScatterReduction.Add: Core<T, long, AddOp<T>>(data, indices, updates, y, dataShape, indicesShape, axis); break;
            case ScatterReduction.Mul: Core<T, long, MulOp<T>>(data, indices, updates, y, dataShape, indicesShape, axis); break;
            case ScatterReduction.Max: Core<T, long, MaxOp<T>>(data, indices, updates, y, dataShape, indicesShape, axis); break;
            case ScatterReduction.Min: Core<T, long, MinOp<T>>(data, indices, updates, y, dataShape, indicesShape, axis); break;
            default: throw new ArgumentException($"ScatterElements: unknown reduction {op}.", nameof(op));
        }
    }

    private static void Core<T, TI, TOp>(ReadOnlySpan<T> data, ReadOnlySpan<TI> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape, int axis)
        where T : unmanaged where TI : unmanaged, IBinaryInteger<TI> where TOp : struct, ICombine<T>
    {
        const string K = "ScatterElements";
        GatherElements.ValidateElementwiseIndices(K, data.Length, indices.Length, dataShape, indicesShape, axis);
        if (updates.Length != indices.Length) throw new ArgumentException($"{K}: updates has {updates.Length} elements, the indices {indices.Length}.", nameof(updates));
        if (y.Length != data.Length) throw new ArgumentException($"{K}: y has {y.Length} elements, the data {data.Length}.", nameof(y));
        int rank = dataShape.Length;
        Span<int> strides = stackalloc int[rank];
        Span<int> c = stackalloc int[rank];
        ShapeChecks.Strides(dataShape, strides);
        int dim = dataShape[axis];
        data.CopyTo(y);
        for (int e = 0; e < indices.Length; e++)
        {
            int dst = GatherElements.ElementSource(indices[e], c, strides, axis, dim, e, K);
            y[dst] = default(TOp).Apply(y[dst], updates[e]);
            ShapeChecks.Next(c, indicesShape);
        }
    }
}

/// <summary>ONNX ScatterND with indices read at run time.</summary>
public static class ScatterND
{
    /// <summary>
    /// y = data, then for each k-tuple t of indices (shape [..., k], k ≤ rank) in row-major order the slice
    /// y[t0, ..., tk-1, :, ...] is replaced by the matching slice of updates (shape indices.shape[:-1] ++ data.shape[k:]).
    /// Negative indices count from the back.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match its shape, or the shapes do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index falls outside its axis.</exception>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape) where T : unmanaged
        => Core<T, Assign<T>>(data, indices, updates, y, dataShape, indicesShape);

    /// <summary>As Run, combining each update with the element it lands on (add/mul wrap on integers; max/min propagate NaN).</summary>
    public static void Reduce<T>(ScatterReduction op, ReadOnlySpan<T> data, ReadOnlySpan<long> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape) where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case ScatterReduction.None: Core<T, Assign<T>>(data, indices, updates, y, dataShape, indicesShape); break;
            case ScatterReduction.Add: Core<T, AddOp<T>>(data, indices, updates, y, dataShape, indicesShape); break;
            case ScatterReduction.Mul: Core<T, MulOp<T>>(data, indices, updates, y, dataShape, indicesShape); break;
            case ScatterReduction.Max: Core<T, MaxOp<T>>(data, indices, updates, y, dataShape, indicesShape); break;
            case ScatterReduction.Min: Core<T, MinOp<T>>(data, indices, updates, y, dataShape, indicesShape); break;
            default: throw new ArgumentException($"ScatterND: unknown reduction {op}.", nameof(op));
        }
    }

    private static void Core<T, TOp>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, ReadOnlySpan<T> updates, Span<T> y,
        ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indicesShape) where T : unmanaged where TOp : struct, ICombine<T>
    {
        const string K = "ScatterND";
        int rank = dataShape.Length;
        if (rank < 1 || rank > Data.MaxRank) throw new ArgumentException($"{K}: the data's rank must be 1..{Data.MaxRank}.", nameof(dataShape));
        if (indicesShape.Length < 1) throw new ArgumentException($"{K}: the indices must have rank 1 or more.", nameof(indicesShape));
        ShapeChecks.Length(data.Length, dataShape, K, "data");
        ShapeChecks.Length(indices.Length, indicesShape, K, "indices");
        int k = indicesShape[^1];
        if (k > rank) throw new ArgumentException($"{K}: index tuples of {k} entries for data of rank {rank}.", nameof(indicesShape));
        int tuples = ShapeChecks.Count(indicesShape[..^1], K, "indicesShape");
        int block = ShapeChecks.Count(dataShape[k..], K, "dataShape");
        if (updates.Length != (long)tuples * block) throw new ArgumentException($"{K}: updates has {updates.Length} elements, expected {(long)tuples * block}.", nameof(updates));
        if (y.Length != data.Length) throw new ArgumentException($"{K}: y has {y.Length} elements, the data {data.Length}.", nameof(y));
        Span<int> strides = stackalloc int[rank];
        ShapeChecks.Strides(dataShape, strides);
        data.CopyTo(y);
        for (int t = 0; t < tuples; t++)
        {
            int offset = 0;
            for (int j = 0; j < k; j++)
            {
                long v = indices[t * k + j];
                int dim = dataShape[j];
                if (v < 0) v += dim;
                if ((ulong)v >= (ulong)dim)
                    throw new ArgumentOutOfRangeException(nameof(indices), $"{K}: indices[{t * k + j}] = {indices[t * k + j]} is outside [-{dim}, {dim}) (axis {j}).");
                offset += (int)v * strides[j];
            }
            Span<T> dst = y.Slice(offset, block);
            ReadOnlySpan<T> src = updates.Slice(t * block, block);
            for (int e = 0; e < block; e++) dst[e] = default(TOp).Apply(dst[e], src[e]);
        }
    }
}

internal interface ICombine<T> { T Apply(T current, T update); }
internal readonly struct Assign<T> : ICombine<T> { public T Apply(T current, T update) => update; }
internal readonly struct AddOp<T> : ICombine<T> where T : INumber<T> { public T Apply(T current, T update) => unchecked(current + update); }
internal readonly struct MulOp<T> : ICombine<T> where T : INumber<T> { public T Apply(T current, T update) => unchecked(current * update); }
internal readonly struct MaxOp<T> : ICombine<T> where T : INumber<T> { public T Apply(T current, T update) => T.Max(current, update); }
internal readonly struct MinOp<T> : ICombine<T> where T : INumber<T> { public T Apply(T current, T update) => T.Min(current, update); }
