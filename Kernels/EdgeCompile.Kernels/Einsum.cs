namespace EdgeCompile.Kernels;

/// <summary>ONNX Einsum of one or two float32 or float64 operands, as a loop the compiler plans (Operators/Einsum.LoopPlan).</summary>
public static class Einsum
{
    /// <summary>The most loop labels (output plus summed) the kernel takes.</summary>
    public const int MaxLabels = 16;

    /// <summary>
    /// Loops over <paramref name="dims"/> (the first <paramref name="outRank"/> are y's dims, row-major; the rest are summed):
    /// y[out] = Σ a[Σ idx·aStrides] · b[Σ idx·bStrides], products and sum in double, rounded once. With one operand,
    /// <paramref name="b"/> and <paramref name="bStrides"/> are empty. Strides are non-negative (a repeated label adds
    /// strides: the diagonal; broadcast dims have stride 0).
    /// </summary>
    /// <exception cref="ArgumentException">Too many labels, a negative size or stride, stride counts that differ from the labels', y not the product of the output dims, or an operand shorter than its strides reach.</exception>
    public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, ReadOnlySpan<int> dims, int outRank, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        => Core(a, b, y, dims, outRank, aStrides, bStrides);

    /// <summary>Float64 operands (accumulated in double).</summary>
    public static void Run(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y, ReadOnlySpan<int> dims, int outRank, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        => Core(a, b, y, dims, outRank, aStrides, bStrides);

    private static void Core<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, ReadOnlySpan<int> dims, int outRank, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        const string K = "Einsum";
        int n = dims.Length;
        bool two = bStrides.Length != 0;
        if (n > MaxLabels || outRank < 0 || outRank > n) throw new ArgumentException($"{K}: {n} labels (at most {MaxLabels}), {outRank} in the output.", nameof(dims));
        if (aStrides.Length != n || (two && bStrides.Length != n)) throw new ArgumentException($"{K}: one stride per label is needed.", nameof(aStrides));
        if (!two && b.Length != 0) throw new ArgumentException($"{K}: b without strides.", nameof(b));
        long outCount = 1, total = 1, aReach = 0, bReach = 0;
        for (int d = 0; d < n; d++)
        {
            if (dims[d] < 0 || aStrides[d] < 0 || (two && bStrides[d] < 0)) throw new ArgumentException($"{K}: negative size or stride.", nameof(dims));
            if (d < outRank) outCount *= dims[d];
            total *= dims[d];
            aReach += (long)Math.Max(dims[d] - 1, 0) * aStrides[d];
            if (two) bReach += (long)Math.Max(dims[d] - 1, 0) * bStrides[d];
            if (outCount > int.MaxValue) throw new ArgumentException($"{K}: the output is too large.", nameof(dims));
        }
        if (y.Length != outCount) throw new ArgumentException($"{K}: y has {y.Length} elements, the output dims {outCount}.", nameof(y));
        if (total == 0) { y.Clear(); return; }
        if (aReach >= a.Length || (two && bReach >= b.Length)) throw new ArgumentException($"{K}: an operand is shorter than its strides reach.", nameof(a));
        Span<int> counter = stackalloc int[n];
        counter.Clear();
        int inner = n - outRank;
        for (int o = 0; o < y.Length; o++)
        {
            // Offsets of this output element; then the summed labels' odometer.
            int aBase = 0, bBase = 0;
            for (int d = 0; d < outRank; d++) { aBase += counter[d] * aStrides[d]; if (two) bBase += counter[d] * bStrides[d]; }
            double acc = 0;
            int aOff = aBase, bOff = bBase;
            while (true)
            {
                double p = 1;
                p *= double.CreateTruncating(a[aOff]);
                if (two) p *= double.CreateTruncating(b[bOff]);
                acc += p;
                int d = n - 1;
                for (; d >= outRank; d--)
                {
                    counter[d]++;
                    aOff += aStrides[d];
                    if (two) bOff += bStrides[d];
                    if (counter[d] < dims[d]) break;
                    aOff -= aStrides[d] * counter[d];
                    if (two) bOff -= bStrides[d] * counter[d];
                    counter[d] = 0;
                }
                if (d < outRank) break;
            }
            y[o] = T.CreateTruncating(acc);
            for (int d = outRank - 1; d >= 0 && ++counter[d] == dims[d]; d--) counter[d] = 0;
        }
    }
}
