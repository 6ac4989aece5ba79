namespace EdgeCompile.Kernels;

/// <summary>
/// Scalar kernels for less common operators: CumSum, TopK, Hardmax, Range, Clip with run-time bounds and
/// BatchNormalization with run-time parameters. Tensors are viewed as [outer, axis, inner].
/// </summary>
public static class Misc
{
    /// <summary>Cumulative sum along the axis (exclusive: leave the current element out; reverse: from the end); accumulates in double.</summary>
    public static void CumSum(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, bool exclusive, bool reverse)
    {
        CheckView(x.Length, y.Length, outer, axis, inner, nameof(CumSum));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = 0;
                for (int s = 0; s < axis; s++)
                {
                    int a = reverse ? axis - 1 - s : s, idx = (o * axis + a) * inner + i;
                    double v = x[idx];
                    if (exclusive) { y[idx] = (float)acc; acc += v; }
                    else { acc += v; y[idx] = (float)acc; }
                }
            }
    }

    /// <summary>CumSum on double data.</summary>
    public static void CumSum(ReadOnlySpan<double> x, Span<double> y, int outer, int axis, int inner, bool exclusive, bool reverse)
    {
        CheckView(x.Length, y.Length, outer, axis, inner, nameof(CumSum));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = 0;
                for (int s = 0; s < axis; s++)
                {
                    int a = reverse ? axis - 1 - s : s, idx = (o * axis + a) * inner + i;
                    double v = x[idx];
                    if (exclusive) { y[idx] = acc; acc += v; }
                    else { acc += v; y[idx] = acc; }
                }
            }
    }

    /// <summary>CumSum on int64 data (wrapping).</summary>
    public static void CumSum(ReadOnlySpan<long> x, Span<long> y, int outer, int axis, int inner, bool exclusive, bool reverse)
    {
        CheckView(x.Length, y.Length, outer, axis, inner, nameof(CumSum));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long acc = 0;
                for (int s = 0; s < axis; s++)
                {
                    int a = reverse ? axis - 1 - s : s, idx = (o * axis + a) * inner + i;
                    long v = x[idx];
                    if (exclusive) { y[idx] = acc; acc = unchecked(acc + v); }
                    else { acc = unchecked(acc + v); y[idx] = acc; }
                }
            }
    }

    /// <summary>CumSum on int32 data (wrapping).</summary>
    public static void CumSum(ReadOnlySpan<int> x, Span<int> y, int outer, int axis, int inner, bool exclusive, bool reverse)
    {
        CheckView(x.Length, y.Length, outer, axis, inner, nameof(CumSum));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int acc = 0;
                for (int s = 0; s < axis; s++)
                {
                    int a = reverse ? axis - 1 - s : s, idx = (o * axis + a) * inner + i;
                    int v = x[idx];
                    if (exclusive) { y[idx] = acc; acc = unchecked(acc + v); }
                    else { acc = unchecked(acc + v); y[idx] = acc; }
                }
            }
    }

    /// <summary>
    /// TopK along the axis: values and int64 indices of the k largest (or smallest) elements, sorted; equal values keep
    /// the lower index first; NaN ranks above every number. values/indices are [outer, k, inner]. O(k * axis), no memory.
    /// </summary>
    public static void TopK(ReadOnlySpan<float> x, Span<float> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on double data.</summary>
    public static void TopK(ReadOnlySpan<double> x, Span<double> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on int64 data.</summary>
    public static void TopK(ReadOnlySpan<long> x, Span<long> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on int32 data.</summary>
    public static void TopK(ReadOnlySpan<int> x, Span<int> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on uint64 data.</summary>
    public static void TopK(ReadOnlySpan<ulong> x, Span<ulong> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on uint32 data.</summary>
    public static void TopK(ReadOnlySpan<uint> x, Span<uint> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest) =>
        TopKCore(x, values, indices, outer, axis, inner, k, largest);

    /// <summary>TopK on uint64 data with K read at run time.</summary>
    public static void TopK(ReadOnlySpan<ulong> x, ReadOnlySpan<long> kInput, Span<ulong> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    /// <summary>TopK on uint32 data with K read at run time.</summary>
    public static void TopK(ReadOnlySpan<uint> x, ReadOnlySpan<long> kInput, Span<uint> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    /// <summary>TopK whose K is read at run time (one int64): throws unless it equals the compiled <paramref name="k"/>.</summary>
    public static void TopK(ReadOnlySpan<float> x, ReadOnlySpan<long> kInput, Span<float> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    /// <summary>TopK on double data with K read at run time.</summary>
    public static void TopK(ReadOnlySpan<double> x, ReadOnlySpan<long> kInput, Span<double> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    /// <summary>TopK on int64 data with K read at run time.</summary>
    public static void TopK(ReadOnlySpan<long> x, ReadOnlySpan<long> kInput, Span<long> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    /// <summary>TopK on int32 data with K read at run time.</summary>
    public static void TopK(ReadOnlySpan<int> x, ReadOnlySpan<long> kInput, Span<int> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
    { CheckK(kInput, k); TopKCore(x, values, indices, outer, axis, inner, k, largest); }

    private static void CheckK(ReadOnlySpan<long> kInput, int k)
    {
        if (kInput.Length != 1 || kInput[0] != k)
            throw new ArgumentException($"TopK: K at run time ({(kInput.Length == 1 ? kInput[0].ToString() : "not one value")}) differs from the compiled K {k}.", nameof(kInput));
    }

    private static void TopKCore<T>(ReadOnlySpan<T> x, Span<T> values, Span<long> indices, int outer, int axis, int inner, int k, bool largest)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        if (outer < 0 || axis < 0 || inner < 0 || k < 0 || k > axis) throw new ArgumentException("TopK: shape arguments out of range.", nameof(k));
        if (x.Length != (long)outer * axis * inner) throw new ArgumentException("TopK: x length does not match the shape.", nameof(x));
        if (values.Length != (long)outer * k * inner) throw new ArgumentException("TopK: values length does not match the shape.", nameof(values));
        if (indices.Length != values.Length) throw new ArgumentException("TopK: indices length does not match the shape.", nameof(indices));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int prev = -1;
                for (int j = 0; j < k; j++)
                {
                    int best = -1;
                    for (int a = 0; a < axis; a++)
                    {
                        if (prev >= 0 && !Before(x, o, axis, inner, i, prev, a, largest)) continue; // must come after prev
                        if (best < 0 || Before(x, o, axis, inner, i, a, best, largest)) best = a;
                    }
                    int outIdx = (o * k + j) * inner + i;
                    values[outIdx] = x[(o * axis + best) * inner + i];
                    indices[outIdx] = best;
                    prev = best;
                }
            }
    }

    // Whether element a ranks strictly before element b (value order, then lower index).
    private static bool Before<T>(ReadOnlySpan<T> x, int o, int axis, int inner, int i, int a, int b, bool largest) where T : unmanaged, System.Numerics.INumber<T>
    {
        T va = x[(o * axis + a) * inner + i], vb = x[(o * axis + b) * inner + i];
        int c = CompareNaNHigh(va, vb);
        if (!largest) c = -c;
        return c > 0 || (c == 0 && a < b);
    }

    private static int CompareNaNHigh<T>(T a, T b) where T : unmanaged, System.Numerics.INumber<T>
    {
        bool na = T.IsNaN(a), nb = T.IsNaN(b);
        if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        return a > b ? 1 : a < b ? -1 : 0;
    }

    /// <summary>CumSum with the axis read at run time (one int64 or int32, negative counts from the end) over x of shape <paramref name="shape"/>.</summary>
    public static void CumSum(ReadOnlySpan<float> x, ReadOnlySpan<long> axis, Span<float> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on float data with an int32 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<float> x, ReadOnlySpan<int> axis, Span<float> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on double data with an int64 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<double> x, ReadOnlySpan<long> axis, Span<double> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on double data with an int32 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<double> x, ReadOnlySpan<int> axis, Span<double> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on int64 data with an int64 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<long> x, ReadOnlySpan<long> axis, Span<long> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on int64 data with an int32 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<long> x, ReadOnlySpan<int> axis, Span<long> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on int32 data with an int64 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<int> x, ReadOnlySpan<long> axis, Span<int> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    /// <summary>CumSum on int32 data with an int32 axis read at run time.</summary>
    public static void CumSum(ReadOnlySpan<int> x, ReadOnlySpan<int> axis, Span<int> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
    { var (o, a, i) = View(axis.Length == 1 ? axis[0] : long.MinValue, shape); CumSum(x, y, o, a, i, exclusive, reverse); }

    private static (int Outer, int Axis, int Inner) View(long axis, ReadOnlySpan<int> shape)
    {
        int r = shape.Length;
        if (axis < -r || axis >= r) throw new ArgumentException($"CumSum: axis {axis} is out of range for rank {r}.", nameof(axis));
        int a = (int)(axis < 0 ? axis + r : axis);
        long outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= shape[d];
        for (int d = a + 1; d < r; d++) inner *= shape[d];
        return ((int)outer, shape[a], (int)inner);
    }

    /// <summary>Hardmax: 1 at the first maximum along the axis (a NaN counts as the maximum, as numpy's argmax), 0 elsewhere.</summary>
    public static void Hardmax(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        CheckView(x.Length, y.Length, outer, axis, inner, nameof(Hardmax));
        y.Clear();
        if (axis == 0) return;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x[o * axis * inner + i];
                if (!float.IsNaN(bv))
                    for (int a = 1; a < axis; a++)
                    {
                        float v = x[(o * axis + a) * inner + i];
                        if (float.IsNaN(v)) { best = a; break; }
                        if (v > bv) { bv = v; best = a; }
                    }
                y[(o * axis + best) * inner + i] = 1f;
            }
    }

    /// <summary>Range: y[i] = start + i * delta (computed in double, rounded once); throws when the run-time count differs from y.Length.</summary>
    public static void Range(ReadOnlySpan<float> start, ReadOnlySpan<float> limit, ReadOnlySpan<float> delta, Span<float> y)
    {
        double s = Scalar(start), d = Scalar(delta);
        CheckRangeCount(s, Scalar(limit), d, y.Length);
        for (int i = 0; i < y.Length; i++) y[i] = (float)(s + i * d);
    }

    /// <summary>Range on double data.</summary>
    public static void Range(ReadOnlySpan<double> start, ReadOnlySpan<double> limit, ReadOnlySpan<double> delta, Span<double> y)
    {
        double s = Scalar(start), d = Scalar(delta);
        CheckRangeCount(s, Scalar(limit), d, y.Length);
        for (int i = 0; i < y.Length; i++) y[i] = s + i * d;
    }

    /// <summary>Range on int64 data (exact, wrapping).</summary>
    public static void Range(ReadOnlySpan<long> start, ReadOnlySpan<long> limit, ReadOnlySpan<long> delta, Span<long> y)
    {
        long s = Scalar(start), l = Scalar(limit), d = Scalar(delta);
        CheckRangeCount(s, l, d, y.Length);
        for (int i = 0; i < y.Length; i++) y[i] = unchecked(s + i * d);
    }

    /// <summary>Range on int32 data (exact, wrapping).</summary>
    public static void Range(ReadOnlySpan<int> start, ReadOnlySpan<int> limit, ReadOnlySpan<int> delta, Span<int> y)
    {
        int s = Scalar(start), l = Scalar(limit), d = Scalar(delta);
        CheckRangeCount(s, l, d, y.Length);
        for (int i = 0; i < y.Length; i++) y[i] = unchecked(s + i * d);
    }

    private static void CheckRangeCount(double s, double l, double d, int length)
    {
        if (d == 0 || !double.IsFinite(s) || !double.IsFinite(l) || !double.IsFinite(d))
            throw new ArgumentException("Range: delta must be non-zero and all inputs finite.", nameof(d));
        double q = Math.Ceiling((l - s) / d);
        long count = q <= 0 ? 0 : (long)Math.Min(q, long.MaxValue);
        if (count != length)
            throw new ArgumentException($"Range: start {s}, limit {l}, delta {d} give {count} elements; the compiled output holds {length}.", nameof(length));
    }

    private static void CheckRangeCount(long s, long l, long d, int length)
    {
        if (d == 0) throw new ArgumentException("Range: delta must be non-zero.", nameof(d));
        Int128 diff = (Int128)l - s;
        Int128 q = diff / d;
        if (q * d != diff && (diff > 0) == (d > 0)) q += 1;
        Int128 count = q < 0 ? 0 : q;
        if (count != length)
            throw new ArgumentException($"Range: start {s}, limit {l}, delta {d} give {count} elements; the compiled output holds {length}.", nameof(length));
    }

    private static T Scalar<T>(ReadOnlySpan<T> v)
    {
        if (v.Length != 1) throw new ArgumentException("Range: start, limit and delta must hold one element each.", nameof(v));
        return v[0];
    }

    /// <summary>Clip with bounds read at run time: min/max hold one element, or are empty (no bound). y = min(max(x, lo), hi); NaN propagates.</summary>
    public static void Clip(ReadOnlySpan<float> x, ReadOnlySpan<float> min, ReadOnlySpan<float> max, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Clip: x and y lengths differ.", nameof(y));
        if (min.Length > 1 || max.Length > 1) throw new ArgumentException("Clip: min and max must be scalars.", nameof(min));
        float lo = min.Length == 1 ? min[0] : float.NegativeInfinity, hi = max.Length == 1 ? max[0] : float.PositiveInfinity;
        for (int i = 0; i < x.Length; i++) y[i] = MathF.Min(MathF.Max(x[i], lo), hi);
    }

    /// <summary>
    /// Inference BatchNormalization with run-time parameters: per channel s = scale / sqrt(var + epsilon) (in double),
    /// y = x * s + (bias - mean * s). x and y are [n, c, spatial].
    /// </summary>
    public static void BatchNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> var,
        Span<float> y, int n, int c, int spatial, float epsilon)
    {
        if (scale.Length != c || bias.Length != c || mean.Length != c || var.Length != c) throw new ArgumentException("BatchNorm: parameters must hold c values.", nameof(scale));
        CheckView(x.Length, y.Length, n, c, spatial, nameof(BatchNorm));
        for (int ch = 0; ch < c; ch++)
        {
            double s = scale[ch] / Math.Sqrt((double)var[ch] + epsilon);
            float fs = (float)s, ft = (float)(bias[ch] - mean[ch] * s);
            for (int b = 0; b < n; b++)
            {
                int off = (b * c + ch) * spatial;
                for (int i = 0; i < spatial; i++) y[off + i] = x[off + i] * fs + ft;
            }
        }
    }

    private static void CheckView(int xLength, int yLength, int outer, int axis, int inner, string what)
    {
        if (outer < 0 || axis < 0 || inner < 0) throw new ArgumentException($"{what}: shape arguments must be >= 0.", nameof(outer));
        long expected = (long)outer * axis * inner;
        if (xLength != expected || yLength != expected) throw new ArgumentException($"{what}: span lengths do not match the shape.", nameof(xLength));
    }
}
