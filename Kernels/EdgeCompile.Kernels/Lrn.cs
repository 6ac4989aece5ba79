namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX LRN (local response normalization across channels) over x viewed as [n, c, spatial]:
/// y = x / (bias + alpha / size · Σ x²)^beta, the sum over channels c - floor((size-1)/2) .. c + ceil((size-1)/2)
/// clipped to [0, c). Scalar reference, computed in double. Allocation-free.
/// </summary>
public static class Lrn
{
    /// <summary>Normalizes every position of every channel.</summary>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int n, int c, int spatial, int size, float alpha, float beta, float bias)
    {
        if (n < 0 || c < 1 || spatial < 0 || size < 1) throw new ArgumentException($"Lrn: invalid n={n}, c={c}, spatial={spatial}, size={size}.", nameof(size));
        long count = (long)n * c * spatial;
        if (x.Length != count) throw new ArgumentException($"Lrn: x has {x.Length} elements, expected {count}.", nameof(x));
        if (y.Length != count) throw new ArgumentException($"Lrn: y has {y.Length} elements, expected {count}.", nameof(y));
        int before = (size - 1) / 2, after = size - 1 - before;
        double coefficient = (double)alpha / size;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int lo = Math.Max(0, ch - before), hi = Math.Min(c - 1, ch + after);
                for (int s = 0; s < spatial; s++)
                {
                    double squares = 0;
                    for (int j = lo; j <= hi; j++)
                    {
                        double v = x[(b * c + j) * spatial + s];
                        squares += v * v;
                    }
                    int at = (b * c + ch) * spatial + s;
                    y[at] = (float)(x[at] / Math.Pow(bias + coefficient * squares, beta));
                }
            }
    }
}
