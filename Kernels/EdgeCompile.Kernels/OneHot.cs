using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>ONNX OneHot with indices and depth read at run time.</summary>
public static class OneHot
{
    /// <summary>
    /// y viewed as [outer, depth, inner] (the new axis between the indices' first dims and the rest):
    /// y[o, d, i] = values[1] where indices[o·inner + i] == d, else values[0]. Float indices and depth truncate
    /// (NaN → 0, saturating); with <paramref name="wrapNegative"/> (opset 11+) a negative index counts from the end;
    /// indices still outside [0, depth) give an all-off row. The run-time depth must equal the compiled one.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the view, values is not two elements, depth is not one value, or the run-time depth differs from <paramref name="depth"/>.</exception>
    public static void Run<T>(ReadOnlySpan<long> indices, ReadOnlySpan<float> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    /// <summary>int64 indices, int64 depth.</summary>
    public static void Run<T>(ReadOnlySpan<long> indices, ReadOnlySpan<long> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    /// <summary>float indices, float depth.</summary>
    public static void Run<T>(ReadOnlySpan<float> indices, ReadOnlySpan<float> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    /// <summary>float indices, int64 depth.</summary>
    public static void Run<T>(ReadOnlySpan<float> indices, ReadOnlySpan<long> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    /// <summary>int32 indices, int32 depth.</summary>
    public static void Run<T>(ReadOnlySpan<int> indices, ReadOnlySpan<int> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    /// <summary>int32 indices, int64 depth.</summary>
    public static void Run<T>(ReadOnlySpan<int> indices, ReadOnlySpan<long> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative) where T : unmanaged
        => Core(indices, depthInput, values, y, outer, depth, inner, wrapNegative);

    private static void Core<T, TI, TD>(ReadOnlySpan<TI> indices, ReadOnlySpan<TD> depthInput, ReadOnlySpan<T> values, Span<T> y, int outer, int depth, int inner, bool wrapNegative)
        where T : unmanaged where TI : unmanaged, INumberBase<TI> where TD : unmanaged, INumberBase<TD>
    {
        const string K = "OneHot";
        if (outer < 0 || depth < 0 || inner < 0) throw new ArgumentException($"{K}: negative size.", nameof(outer));
        if (indices.Length != (long)outer * inner) throw new ArgumentException($"{K}: indices has {indices.Length} elements, expected outer·inner = {(long)outer * inner}.", nameof(indices));
        if (y.Length != (long)outer * depth * inner) throw new ArgumentException($"{K}: y has {y.Length} elements, expected outer·depth·inner = {(long)outer * depth * inner}.", nameof(y));
        if (values.Length != 2) throw new ArgumentException($"{K}: values must be [off, on], got {values.Length} elements.", nameof(values));
        if (depthInput.Length != 1) throw new ArgumentException($"{K}: depth must be one value, got {depthInput.Length}.", nameof(depthInput));
        long runDepth = long.CreateSaturating(depthInput[0]);
        if (runDepth != depth) throw new ArgumentException($"{K}: the run-time depth {runDepth} differs from the compiled {depth}.", nameof(depthInput));
        T off = values[0], on = values[1];
        for (int o = 0, p = 0; o < outer; o++)
            for (int d = 0; d < depth; d++)
                for (int i = 0; i < inner; i++, p++)
                {
                    long v = long.CreateSaturating(indices[o * inner + i]);
                    if (v < 0 && wrapNegative) v += depth;
                    y[p] = v == d ? on : off;
                }
    }
}
