namespace EdgeCompile.Kernels;

/// <summary>ONNX Trilu with the diagonal offset k read at run time.</summary>
public static class Trilu
{
    /// <summary>
    /// Over <paramref name="batch"/> matrices of rows × cols: keeps the elements with column - row ≥ k (upper) or
    /// ≤ k (lower) and zeroes the rest. <paramref name="k"/> holds one value (empty: 0).
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative, x or y is not batch·rows·cols long, or k has more than one value.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> k, Span<T> y, int batch, int rows, int cols, bool upper) where T : unmanaged
    {
        if (batch < 0 || rows < 0 || cols < 0) throw new ArgumentException("Trilu: negative size.", nameof(batch));
        long n = (long)batch * rows * cols;
        if (x.Length != n || y.Length != n) throw new ArgumentException($"Trilu: x ({x.Length}) and y ({y.Length}) must have batch·rows·cols = {n} elements.", nameof(y));
        if (k.Length > 1) throw new ArgumentException($"Trilu: k must be one value, got {k.Length}.", nameof(k));
        long kv = k.Length == 1 ? k[0] : 0;
        for (int b = 0, e = 0; b < batch; b++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++, e++)
                {
                    long diag = (long)j - i;
                    y[e] = (upper ? diag >= kv : diag <= kv) ? x[e] : default;
                }
    }
}
