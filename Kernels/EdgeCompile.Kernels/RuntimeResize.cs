namespace EdgeCompile.Kernels;

/// <summary>Resize interpolation (ONNX 'mode').</summary>
public enum ResizeMode
{
    /// <summary>One input element per output element (chosen by <see cref="ResizeNearest"/>).</summary>
    Nearest,
    /// <summary>n-linear.</summary>
    Linear,
    /// <summary>Cubic convolution (Keys) with parameter cubic_coeff_a.</summary>
    Cubic,
}

/// <summary>Resize coordinate_transformation_mode.</summary>
public enum ResizeCoordinate
{
    /// <summary>(o + 0.5) / scale - 0.5.</summary>
    HalfPixel,
    /// <summary>half_pixel, centered when floor() shrank the output (opset 19).</summary>
    HalfPixelSymmetric,
    /// <summary>half_pixel, -0.5 when the resized length is 1.</summary>
    PytorchHalfPixel,
    /// <summary>o · (in - 1) / (resized length - 1).</summary>
    AlignCorners,
    /// <summary>o / scale.</summary>
    Asymmetric,
    /// <summary>Within the region of interest; outside the input gives the extrapolation value.</summary>
    TfCropAndResize,
    /// <summary>(o + 0.5) / scale (opset 11).</summary>
    TfHalfPixelForNn,
}

/// <summary>Resize nearest_mode.</summary>
public enum ResizeNearest
{
    /// <summary>Round, halves down.</summary>
    RoundPreferFloor,
    /// <summary>Round, halves up.</summary>
    RoundPreferCeil,
    /// <summary>Floor.</summary>
    Floor,
    /// <summary>Ceiling.</summary>
    Ceil,
    /// <summary>Opset 10 / Upsample: floor when upsampling an axis, ceiling when downsampling it.</summary>
    Simple,
}

/// <summary>Resize keep_aspect_ratio_policy (with sizes).</summary>
public enum ResizeAspect
{
    /// <summary>Each axis to its size.</summary>
    Stretch,
    /// <summary>One scale, the smallest of sizes / input.</summary>
    NotLarger,
    /// <summary>One scale, the largest of sizes / input.</summary>
    NotSmaller,
}

/// <summary>
/// ONNX Resize (and Upsample) whose scales, sizes or roi are read at run time (float32). The per-axis taps follow the
/// compiler's reference executor exactly (Operators/Resize.cs): weights in double, the product of the per-axis taps
/// accumulated in double and rounded once.
/// </summary>
public static class RuntimeResize
{
    /// <summary>The tap capacity one axis needs (the scratch holds the sum over the axes, for both spans).</summary>
    /// <remarks>With an output length of at least 1 the scale is at least 0.5 / inLength, so antialiased cubic needs at most 8·inLength + 4 taps.</remarks>
    public static int TapCapacity(int inLength, ResizeMode mode, bool antialias) =>
        mode == ResizeMode.Nearest ? 1 : antialias ? checked(8 * inLength + 4) : 4;

    /// <summary>
    /// Resizes x (<paramref name="inShape"/>) into y (<paramref name="outShape"/>, the compiled shape). Exactly one of
    /// <paramref name="scales"/> and <paramref name="sizes"/> is non-empty, with one value per entry of
    /// <paramref name="axes"/> (the resized dims); <paramref name="roi"/> (starts then ends, 2 per axis) is read with
    /// tf_crop_and_resize only and may be empty. <paramref name="tapIndex"/>/<paramref name="tapWeight"/> are scratch of
    /// Σ <see cref="TapCapacity"/> over the dims.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shapes, a parameter has the wrong count or a non-positive scale, the run-time parameters give an output shape other than <paramref name="outShape"/>, or an axis needs more taps than the scratch holds.</exception>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> roi, ReadOnlySpan<float> scales, ReadOnlySpan<long> sizes, Span<float> y,
        Span<int> tapIndex, Span<double> tapWeight, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> axes,
        ResizeMode mode, ResizeCoordinate coordinate, ResizeNearest nearest, ResizeAspect policy, float cubicA, bool excludeOutside,
        float extrapolationValue, bool antialias)
    {
        const string K = "Resize";
        int rank = inShape.Length;
        if (rank < 1 || rank > Data.MaxRank || outShape.Length != rank) throw new ArgumentException($"{K}: shapes must have the same rank, 1..{Data.MaxRank}.", nameof(outShape));
        ShapeChecks.Length(x.Length, inShape, K, nameof(x));
        ShapeChecks.Length(y.Length, outShape, K, nameof(y));
        Span<int> cap = stackalloc int[rank], capOffset = stackalloc int[rank];
        long capTotal = 0;
        for (int d = 0; d < rank; d++) { cap[d] = TapCapacity(inShape[d], mode, antialias); capOffset[d] = (int)capTotal; capTotal += cap[d]; }
        if (tapIndex.Length < capTotal || tapWeight.Length < capTotal) throw new ArgumentException($"{K}: the tap scratch needs {capTotal} entries.", nameof(tapIndex));
        Span<bool> resized = stackalloc bool[rank];
        resized.Clear();
        foreach (int a in axes)
        {
            if ((uint)a >= (uint)rank || resized[a]) throw new ArgumentException($"{K}: axis {a} is out of range or repeated.", nameof(axes));
            resized[a] = true;
        }

        // Per-dim scale and roi from the run-time parameters, as Operators/Resize.MakePlan.
        Span<double> scale = stackalloc double[rank], roiStart = stackalloc double[rank], roiEnd = stackalloc double[rank];
        Span<int> expected = stackalloc int[rank];
        for (int d = 0; d < rank; d++) { scale[d] = 1; roiStart[d] = 0; roiEnd[d] = 1; expected[d] = inShape[d]; }
        if ((scales.Length == 0) == (sizes.Length == 0)) throw new ArgumentException($"{K}: exactly one of scales and sizes must be given.", nameof(scales));
        if (scales.Length != 0)
        {
            if (scales.Length != axes.Length) throw new ArgumentException($"{K}: scales has {scales.Length} values for {axes.Length} resized dims.", nameof(scales));
            for (int i = 0; i < axes.Length; i++)
            {
                double s = scales[i];
                if (!(s > 0)) throw new ArgumentException($"{K}: scale {s} must be positive.", nameof(scales));
                scale[axes[i]] = s;
                double o = Math.Floor(inShape[axes[i]] * s);
                expected[axes[i]] = o > int.MaxValue ? -1 : (int)o;
            }
        }
        else
        {
            if (sizes.Length != axes.Length) throw new ArgumentException($"{K}: sizes has {sizes.Length} values for {axes.Length} resized dims.", nameof(sizes));
            for (int i = 0; i < axes.Length; i++)
            {
                if (sizes[i] < 0 || sizes[i] > int.MaxValue) throw new ArgumentException($"{K}: size {sizes[i]} is out of range.", nameof(sizes));
                scale[axes[i]] = (double)sizes[i] / inShape[axes[i]];
            }
            if (policy == ResizeAspect.Stretch)
                for (int i = 0; i < axes.Length; i++) expected[axes[i]] = (int)sizes[i];
            else
            {
                double s = policy == ResizeAspect.NotLarger ? double.PositiveInfinity : double.NegativeInfinity;
                foreach (int a in axes) s = policy == ResizeAspect.NotLarger ? Math.Min(s, scale[a]) : Math.Max(s, scale[a]);
                foreach (int a in axes)
                {
                    scale[a] = s;
                    double o = Math.Floor(s * inShape[a] + 0.5);
                    expected[a] = o > int.MaxValue ? -1 : (int)o;
                }
            }
        }
        if (coordinate == ResizeCoordinate.TfCropAndResize && roi.Length != 0)
        {
            if (roi.Length != 2 * axes.Length) throw new ArgumentException($"{K}: roi has {roi.Length} values; it needs 2 × {axes.Length}.", nameof(roi));
            for (int i = 0; i < axes.Length; i++) { roiStart[axes[i]] = roi[i]; roiEnd[axes[i]] = roi[axes.Length + i]; }
        }
        for (int d = 0; d < rank; d++)
            if (expected[d] != outShape[d]) throw new ArgumentException($"{K}: the run-time parameters give an output shape other than the compiled one.", nameof(scales));
        if (y.Length == 0) return;
        if (x.Length == 0) throw new ArgumentException($"{K}: cannot resize an empty input to a non-empty output.", nameof(x));

        Span<int> inStrides = stackalloc int[rank], count = stackalloc int[rank], oc = stackalloc int[rank], tc = stackalloc int[rank];
        ShapeChecks.Strides(inShape, inStrides);
        oc.Clear();
        int changed = 0;
        for (int e = 0; e < y.Length; e++)
        {
            // Only the axes whose output coordinate moved need new taps.
            for (int d = changed; d < rank; d++)
                count[d] = AxisTaps(oc[d], inShape[d], outShape[d], scale[d], roiStart[d], roiEnd[d], mode, coordinate, nearest, cubicA, excludeOutside, antialias,
                    tapIndex.Slice(capOffset[d], cap[d]), tapWeight.Slice(capOffset[d], cap[d]));
            bool extrapolate = false, none = false;
            for (int d = 0; d < rank; d++) { extrapolate |= count[d] < 0; none |= count[d] == 0; }
            if (extrapolate) y[e] = extrapolationValue;
            else if (none) y[e] = 0; // every weight of an axis is zero: a sum over nothing
            else
            {
                double acc = 0;
                tc.Clear();
                while (true)
                {
                    double w = 1;
                    int src = 0;
                    for (int d = 0; d < rank; d++) { w *= tapWeight[capOffset[d] + tc[d]]; src += tapIndex[capOffset[d] + tc[d]] * inStrides[d]; }
                    acc += w * x[src];
                    int k = rank - 1;
                    while (k >= 0 && ++tc[k] == count[k]) { tc[k] = 0; k--; }
                    if (k < 0) break;
                }
                y[e] = (float)acc;
            }
            changed = ShapeChecks.Next(oc, outShape);
            if (changed < 0) break;
        }
    }

    /// <summary>The input coordinate of output coordinate o, or NaN to extrapolate (tf_crop_and_resize).</summary>
    private static double OriginalCoordinate(int o, int inLen, int outLen, double scale, double roiStart, double roiEnd, ResizeCoordinate mode)
    {
        double lengthResized = scale * inLen;
        switch (mode)
        {
            case ResizeCoordinate.Asymmetric: return o / scale;
            case ResizeCoordinate.HalfPixel: return (o + 0.5) / scale - 0.5;
            case ResizeCoordinate.TfHalfPixelForNn: return (o + 0.5) / scale;
            case ResizeCoordinate.PytorchHalfPixel: return lengthResized == 1 ? -0.5 : (o + 0.5) / scale - 0.5;
            case ResizeCoordinate.AlignCorners: return lengthResized == 1 ? 0 : o * (inLen - 1) / (lengthResized - 1);
            case ResizeCoordinate.HalfPixelSymmetric:
                {
                    double adjustment = outLen / lengthResized;
                    double offset = inLen / 2.0 * (1 - adjustment);
                    return offset + (o + 0.5) / scale - 0.5;
                }
            case ResizeCoordinate.TfCropAndResize:
                {
                    double v = lengthResized == 1
                        ? (roiEnd - roiStart) * (inLen - 1) / 2
                        : o * (roiEnd - roiStart) * (inLen - 1) / (lengthResized - 1);
                    v += roiStart * (inLen - 1);
                    return v < 0 || v > inLen - 1 ? double.NaN : v;
                }
            default: throw new ArgumentException($"Resize: unknown coordinate mode {mode}.", nameof(mode));
        }
    }

    /// <summary>One axis' taps for output coordinate o into idx/w (non-zero weights only); the count, or -1 to extrapolate.</summary>
    private static int AxisTaps(int o, int inLen, int outLen, double scale, double roiStart, double roiEnd, ResizeMode mode, ResizeCoordinate coordinate,
        ResizeNearest nearest, double cubicA, bool excludeOutside, bool antialias, Span<int> idx, Span<double> w)
    {
        double xo = OriginalCoordinate(o, inLen, outLen, scale, roiStart, roiEnd, coordinate);
        if (double.IsNaN(xo)) return -1;
        if (mode == ResizeMode.Nearest)
        {
            double fl = Math.Floor(xo), ratio = xo - fl;
            long i = xo == fl ? (long)xo : nearest switch
            {
                ResizeNearest.RoundPreferFloor => ratio <= 0.5 ? (long)fl : (long)fl + 1,
                ResizeNearest.RoundPreferCeil => ratio < 0.5 ? (long)fl : (long)fl + 1,
                ResizeNearest.Floor => (long)fl,
                ResizeNearest.Ceil => (long)fl + 1,
                _ => scale < 1 ? (long)fl + 1 : (long)fl,
            };
            idx[0] = (int)Math.Clamp(i, 0, inLen - 1);
            w[0] = 1;
            return 1;
        }
        long b = (long)Math.Ceiling(xo) - 1;
        double r = xo - b;
        long first;
        long n;
        bool normalize;
        if (mode == ResizeMode.Linear)
        {
            if (antialias && scale < 1)
            {
                first = (long)Math.Floor(-1 / scale) + 1;
                n = 2 - 2 * first;
                if (n > w.Length) throw new ArgumentException($"Resize: {n} taps exceed the scratch ({w.Length}).", nameof(w));
                for (int i = 0; i < n; i++) w[i] = Math.Clamp(1 - Math.Abs((first + i - r) * scale), 0, 1);
                normalize = true;
            }
            else { first = 0; n = 2; w[0] = 1 - r; w[1] = r; normalize = false; }
        }
        else
        {
            double s = antialias ? Math.Min(scale, 1) : 1;
            first = antialias ? (long)Math.Floor(-2 / s) + 1 : -1;
            n = 2 - 2 * first;
            if (n > w.Length) throw new ArgumentException($"Resize: {n} taps exceed the scratch ({w.Length}).", nameof(w));
            for (int i = 0; i < n; i++) w[i] = CubicKernel(s * (first + i - r), cubicA);
            normalize = antialias;
        }
        int count = (int)n;
        if (normalize) Normalize(w[..count]);
        if (excludeOutside)
        {
            for (int i = 0; i < count; i++)
            {
                long j = b + first + i;
                if (j < 0 || j >= inLen) w[i] = 0;
            }
            Normalize(w[..count]);
        }
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (w[i] == 0) continue;
            w[kept] = w[i];
            idx[kept] = (int)Math.Clamp(b + first + i, 0, inLen - 1);
            kept++;
        }
        return kept;
    }

    private static double CubicKernel(double t, double a)
    {
        t = Math.Abs(t);
        if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
        if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
        return 0;
    }

    private static void Normalize(Span<double> w)
    {
        double sum = 0;
        foreach (double v in w) sum += v;
        if (sum == 0) return;
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
    }
}
