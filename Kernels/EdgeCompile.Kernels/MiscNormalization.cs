namespace EdgeCompile.Kernels;

/// <summary>Scalar LpNormalization, InstanceNormalization, Sign, Tan and fills (double intermediates).</summary>
public static class MiscOps
{
    /// <summary>y = x / ||x||_p along the axis of [outer, axis, inner], p = 1 or 2; a lane with norm 0 gives 0.</summary>
    public static void LpNorm(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, int p)
    {
        if (p is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(p), p, "LpNorm: p must be 1 or 2.");
        if (outer < 0 || axis < 0 || inner < 0 || x.Length != (long)outer * axis * inner || y.Length != x.Length)
            throw new ArgumentException("LpNorm: span lengths do not match the shape.", nameof(x));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double s = 0;
                for (int a = 0; a < axis; a++)
                {
                    double v = x[(o * axis + a) * inner + i];
                    s += p == 1 ? Math.Abs(v) : v * v;
                }
                double norm = p == 1 ? s : Math.Sqrt(s);
                for (int a = 0; a < axis; a++)
                {
                    int idx = (o * axis + a) * inner + i;
                    y[idx] = norm == 0 ? 0f : (float)(x[idx] / norm);
                }
            }
    }

    /// <summary>
    /// InstanceNormalization: per (n, c) plane of <paramref name="spatial"/> elements, mean and biased variance in double;
    /// y = scale[c] * (x - mean) / sqrt(var + epsilon) + bias[c].
    /// </summary>
    public static void InstanceNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int spatial, float epsilon)
    {
        if (n < 0 || c < 0 || spatial < 0 || x.Length != (long)n * c * spatial || y.Length != x.Length || scale.Length != c || bias.Length != c)
            throw new ArgumentException("InstanceNorm: span lengths do not match the shape.", nameof(x));
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                var plane = x.Slice((b * c + ch) * spatial, spatial);
                double mean = 0;
                foreach (float v in plane) mean += v;
                mean /= spatial;
                double var = 0;
                foreach (float v in plane) var += (v - mean) * (v - mean);
                var /= spatial;
                double k = scale[ch] / Math.Sqrt(var + epsilon);
                var yp = y.Slice((b * c + ch) * spatial, spatial);
                for (int i = 0; i < spatial; i++) yp[i] = (float)((plane[i] - mean) * k + bias[ch]);
            }
    }

    /// <summary>y = sign(x): -1, 0 or 1 (NaN stays NaN).</summary>
    public static void Sign(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Sign: x and y lengths differ.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = float.IsNaN(x[i]) ? x[i] : MathF.Sign(x[i]);
    }

    /// <summary>Sign on double data.</summary>
    public static void Sign(ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Sign: x and y lengths differ.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = double.IsNaN(x[i]) ? x[i] : Math.Sign(x[i]);
    }

    /// <summary>Sign on int64 data.</summary>
    public static void Sign(ReadOnlySpan<long> x, Span<long> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Sign: x and y lengths differ.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = Math.Sign(x[i]);
    }

    /// <summary>Sign on int32 data.</summary>
    public static void Sign(ReadOnlySpan<int> x, Span<int> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Sign: x and y lengths differ.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = Math.Sign(x[i]);
    }

    /// <summary>y = tan(x), computed in double and rounded once.</summary>
    public static void Tan(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Tan: x and y lengths differ.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = (float)Math.Tan(x[i]);
    }

    /// <summary>Fills y with <paramref name="value"/>.</summary>
    public static void Fill<T>(Span<T> y, T value) where T : unmanaged => y.Fill(value);

    /// <summary>
    /// ConstantOfShape with the shape read at run time: throws unless <paramref name="shape"/> equals the compiled
    /// <paramref name="outShape"/>, then fills y with <paramref name="value"/>.
    /// </summary>
    public static void ConstantOfShape<T>(ReadOnlySpan<long> shape, Span<T> y, ReadOnlySpan<int> outShape, T value) where T : unmanaged
    {
        bool same = shape.Length == outShape.Length;
        long count = 1;
        for (int d = 0; same && d < shape.Length; d++) { same = shape[d] == outShape[d]; count *= outShape[d]; }
        if (!same) throw new ArgumentException("ConstantOfShape: the run-time shape differs from the compiled output shape.", nameof(shape));
        if (y.Length != count) throw new ArgumentException("ConstantOfShape: y length does not match the shape.", nameof(y));
        y.Fill(value);
    }
}
