using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>2-D pooling over NCHW tensors (ONNX MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool).</summary>
public static class Pool
{
    /// <summary>
    /// y[n, c, oh, ow] = max over the kh x kw window (with strides, top/left padding and dilations) of the taps
    /// inside the input; bottom/right padding is implied by oh/ow. Padding never wins the max (a window with no
    /// tap inside the input gives -infinity).
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shape arguments, or an attribute is out of range.</exception>
    public static void MaxPool2D(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW)
    {
        ValidateWindow(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, "MaxPool2D");
        MaxPool2DCore(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, KernelPaths.Best);
    }

    /// <summary>
    /// y[n, c, oh, ow] = the mean of the kh x kw window. With <paramref name="countIncludePad"/> the divisor counts the
    /// window's positions inside the padded input [-padTop, h + padBottom) x [-padLeft, width + padRight) (never
    /// positions past padBottom/padRight); otherwise it counts only taps inside the input.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shape arguments, or an attribute is out of range.</exception>
    public static void AveragePool2D(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad)
    {
        ValidateWindow(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, 1, 1, "AveragePool2D");
        if (padBottom < 0) throw new ArgumentException("AveragePool2D: padding must be >= 0.", nameof(padBottom));
        if (padRight < 0) throw new ArgumentException("AveragePool2D: padding must be >= 0.", nameof(padRight));
        AveragePool2DCore(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, padBottom, padRight, countIncludePad, KernelPaths.Best);
    }

    /// <summary>y[i] = the mean of x[i * spatial .. (i + 1) * spatial); channels = n * c.</summary>
    /// <exception cref="ArgumentException">A span length does not match channels * spatial (x) or channels (y).</exception>
    public static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial)
    {
        ValidateGlobal(x, y, channels, spatial, "GlobalAverage");
        GlobalCore(x, y, channels, spatial, max: false, KernelPaths.Best);
    }

    /// <summary>y[i] = the max of x[i * spatial .. (i + 1) * spatial); channels = n * c.</summary>
    /// <exception cref="ArgumentException">A span length does not match channels * spatial (x) or channels (y).</exception>
    public static void GlobalMax(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial)
    {
        ValidateGlobal(x, y, channels, spatial, "GlobalMax");
        GlobalCore(x, y, channels, spatial, max: true, KernelPaths.Best);
    }

    // ---------------------------------------------------------------- validation

    internal static void ValidateWindow(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, string kernel)
    {
        if (n < 0 || c < 0 || h < 0 || width < 0 || kh < 1 || kw < 1 || oh < 0 || ow < 0)
            throw new ArgumentException($"{kernel}: bad shape n={n}, c={c}, h={h}, width={width}, kh={kh}, kw={kw}, oh={oh}, ow={ow}.", nameof(n));
        if (strideH < 1) throw new ArgumentException($"{kernel}: stride must be >= 1.", nameof(strideH));
        if (strideW < 1) throw new ArgumentException($"{kernel}: stride must be >= 1.", nameof(strideW));
        if (dilationH < 1) throw new ArgumentException($"{kernel}: dilation must be >= 1.", nameof(dilationH));
        if (dilationW < 1) throw new ArgumentException($"{kernel}: dilation must be >= 1.", nameof(dilationW));
        if (padTop < 0) throw new ArgumentException($"{kernel}: padding must be >= 0.", nameof(padTop));
        if (padLeft < 0) throw new ArgumentException($"{kernel}: padding must be >= 0.", nameof(padLeft));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected n*c*h*width = {(long)n * c * h * width}.", nameof(x));
        if (y.Length != (long)n * c * oh * ow) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected n*c*oh*ow = {(long)n * c * oh * ow}.", nameof(y));
    }

    internal static void ValidateGlobal(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial, string kernel)
    {
        if (channels < 0 || spatial < 0) throw new ArgumentException($"{kernel}: negative channels={channels} or spatial={spatial}.", nameof(channels));
        if (x.Length != (long)channels * spatial) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected channels*spatial = {(long)channels * spatial}.", nameof(x));
        if (y.Length != channels) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected channels = {channels}.", nameof(y));
    }

    // ---------------------------------------------------------------- scalar references

    /// <summary>The specification of <see cref="MaxPool2D"/>.</summary>
    internal static void MaxPool2DScalar(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW)
    {
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float m = float.NegativeInfinity;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * strideH - padTop + ky * dilationH;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * strideW - padLeft + kx * dilationW;
                            if ((uint)ix >= (uint)width) continue;
                            m = MathF.Max(m, x[(plane * h + iy) * width + ix]);
                        }
                    }
                    y[(plane * oh + oy) * ow + ox] = m;
                }
    }

    /// <summary>The specification of <see cref="AveragePool2D"/>: the sum in (ky, kx) order, then one division.</summary>
    internal static void AveragePool2DScalar(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad)
    {
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float sum = 0f;
                    int inside = 0, padded = 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * strideH - padTop + ky;
                        bool rowPadded = iy >= -padTop && iy < h + padBottom;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * strideW - padLeft + kx;
                            if (rowPadded && ix >= -padLeft && ix < width + padRight) padded++;
                            if ((uint)iy >= (uint)h || (uint)ix >= (uint)width) continue;
                            sum += x[(plane * h + iy) * width + ix];
                            inside++;
                        }
                    }
                    int count = countIncludePad ? padded : inside;
                    y[(plane * oh + oy) * ow + ox] = count == 0 ? 0f : sum / count;
                }
    }

    /// <summary>The specification of <see cref="GlobalAverage"/> (sum in order, one division) and <see cref="GlobalMax"/>.</summary>
    internal static void GlobalScalar(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial, bool max)
    {
        for (int i = 0; i < channels; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * spatial, spatial);
            if (max)
            {
                float m = float.NegativeInfinity;
                foreach (float v in row) m = MathF.Max(m, v);
                y[i] = m;
            }
            else
            {
                float s = 0f;
                foreach (float v in row) s += v;
                y[i] = spatial == 0 ? 0f : s / spatial;
            }
        }
    }

    // ---------------------------------------------------------------- fast paths

    /// <summary>
    /// MaxPool: with strideW 1 the interior columns (all kw taps inside the input) take a vector max across
    /// columns; everything else the scalar formula. Max is exact, so every path is bit-exact.
    /// </summary>
    internal static void MaxPool2DCore(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, Isa isa)
    {
        if (isa == Isa.Scalar || (strideW != 1 && width > MaxPoolRowFloats))
        {
            MaxPool2DScalar(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW);
            return;
        }
        if (isa == Isa.Vector256 && Avx2.IsSupported && QPool.Pool2x2Fits(h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW))
        {
            MaxPool2x2Avx(x, y, n * c * oh, width);
            return;
        }
        if (strideW != 1)
        {
            MaxPool2DStrided(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, isa);
            return;
        }
        int lo = Math.Min(ow, padLeft);
        int hi = Math.Max(lo, Math.Min(ow, width - (kw - 1) * dilationW + padLeft));
        ref float rx = ref MemoryMarshal.GetReference(x);
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
            {
                Span<float> yr = y.Slice((plane * oh + oy) * ow, ow);
                int iy0 = oy * strideH - padTop;
                for (int ox = 0; ox < lo; ox++) yr[ox] = MaxPoint(x, plane, h, width, kh, kw, iy0, ox - padLeft, dilationH, dilationW);
                for (int ox = hi; ox < ow; ox++) yr[ox] = MaxPoint(x, plane, h, width, kh, kw, iy0, ox - padLeft, dilationH, dilationW);
                int o = lo;
                ref float yo = ref MemoryMarshal.GetReference(yr);
                if (isa == Isa.Vector256)
                    for (; o <= hi - 8; o += 8)
                    {
                        var m = Vector256.Create(float.NegativeInfinity);
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = iy0 + ky * dilationH;
                            if ((uint)iy >= (uint)h) continue;
                            int baseIndex = (plane * h + iy) * width + o - padLeft;
                            for (int kx = 0; kx < kw; kx++) m = Vector256.Max(Vector256.LoadUnsafe(ref rx, (nuint)(baseIndex + kx * dilationW)), m);
                        }
                        m.StoreUnsafe(ref yo, (nuint)o);
                    }
                for (; o <= hi - 4; o += 4)
                {
                    var m = Vector128.Create(float.NegativeInfinity);
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iy0 + ky * dilationH;
                        if ((uint)iy >= (uint)h) continue;
                        int baseIndex = (plane * h + iy) * width + o - padLeft;
                        for (int kx = 0; kx < kw; kx++) m = Vector128.Max(Vector128.LoadUnsafe(ref rx, (nuint)(baseIndex + kx * dilationW)), m);
                    }
                    m.StoreUnsafe(ref yo, (nuint)o);
                }
                for (; o < hi; o++) yr[o] = MaxPoint(x, plane, h, width, kh, kw, iy0, o - padLeft, dilationH, dilationW);
            }
    }

    /// <summary>
    /// 2x2 stride-2 max pooling, no padding, planes of exactly 2 oh x 2 ow (<see cref="QPool.Pool2x2Fits"/>, the int8
    /// kernel's condition) over <paramref name="rows"/> output rows of all planes: column pairs never cross a row, so the
    /// column-pair maxima run over the flat tensor (8 outputs per step from two de-interleaved vectors, the last step
    /// overlapping) into a stack buffer, chunk by chunk, then each output row is the maximum of two consecutive buffer rows.
    /// Max over the same four values as the reference (IEEE maximum, symmetric): identical results. Stack: 4096 + 8 floats.
    /// </summary>
    [SkipLocalsInit]
    private static void MaxPool2x2Avx(ReadOnlySpan<float> x, Span<float> y, int rows, int width)
    {
        const int bufferFloats = 4096;   // >= width (Pool2x2Fits): a chunk holds at least one output row's input
        Span<float> buf = stackalloc float[bufferFloats + 8];
        int ow = width / 2, chunk = Math.Max(1, bufferFloats / width);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float hb = ref MemoryMarshal.GetReference(buf);
        for (int r0 = 0; r0 < rows; r0 += chunk)
        {
            int nr = Math.Min(chunk, rows - r0), inLen = 2 * nr * width;
            ref float src = ref Unsafe.Add(ref x0, (nint)r0 * 2 * width);
            if (inLen >= 16)
                for (int i = 0; ; i += 16)
                {
                    if (i + 16 > inLen) i = inLen - 16;   // even: pairs stay aligned
                    var a = Vector256.LoadUnsafe(ref src, (nuint)i);
                    var b = Vector256.LoadUnsafe(ref src, (nuint)(i + 8));
                    var m = Vector256.Max(Avx.Shuffle(a, b, 0b10_00_10_00), Avx.Shuffle(a, b, 0b11_01_11_01));
                    Avx2.Permute4x64(m.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref hb, (nuint)(i / 2));
                    if (i + 16 >= inLen) break;
                }
            else
                for (int i = 0; i < inLen; i += 2) Unsafe.Add(ref hb, i / 2) = MathF.Max(Unsafe.Add(ref src, i), Unsafe.Add(ref src, i + 1));
            ref float dst = ref Unsafe.Add(ref y0, (nint)r0 * ow);
            for (int r = 0; r < nr; r++)
            {
                ref float top = ref Unsafe.Add(ref hb, 2 * r * ow);
                ref float d = ref Unsafe.Add(ref dst, r * ow);
                int j = 0;
                if (ow >= 8)
                    for (; ; j += 8)
                    {
                        if (j + 8 > ow) j = ow - 8;
                        Vector256.Max(Vector256.LoadUnsafe(ref top, (nuint)j), Vector256.LoadUnsafe(ref top, (nuint)(j + ow))).StoreUnsafe(ref d, (nuint)j);
                        if (j + 8 >= ow) { j = ow; break; }
                    }
                for (; j + 4 <= ow; j += 4)
                    Vector128.Max(Vector128.LoadUnsafe(ref top, (nuint)j), Vector128.LoadUnsafe(ref top, (nuint)(j + ow))).StoreUnsafe(ref d, (nuint)j);
                for (; j < ow; j++) Unsafe.Add(ref d, j) = MathF.Max(Unsafe.Add(ref top, j), Unsafe.Add(ref top, j + ow));
            }
        }
    }

    /// <summary>The widest input row <see cref="MaxPool2DStrided"/> takes (its row buffer is on the stack).</summary>
    internal const int MaxPoolRowFloats = 4096;

    /// <summary>
    /// strideW > 1 (e.g. ResNet's 3x3 stride 2): per output row, the max over the window's input rows is taken
    /// column by column with vectors into a stack row, then each output takes the max of its kw taps in that row
    /// (strideW 2 on Vector256: eight interior outputs at a time from the row's de-interleaved even columns).
    /// The max of the same set of values as the reference, so the result is identical.
    /// </summary>
    [SkipLocalsInit]
    private static void MaxPool2DStrided(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, Isa isa)
    {
        // 16 floats of slack: the strideW-2 vector step reads one de-interleaved vector (16 floats) from its first tap.
        Span<float> rowMax = stackalloc float[width + 16];
        ref float rm = ref MemoryMarshal.GetReference(rowMax);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        // Output columns whose kw taps are all inside the row: ox*strideW - padLeft >= 0 and ... + (kw-1)*dilationW <= width-1.
        int lo = Math.Min(ow, (padLeft + strideW - 1) / strideW);
        int last = width - 1 - (kw - 1) * dilationW + padLeft;
        int hi = Math.Max(lo, last < 0 ? 0 : Math.Min(ow, last / strideW + 1));
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
            {
                int iy0 = oy * strideH - padTop;
                rowMax.Fill(float.NegativeInfinity);
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = iy0 + ky * dilationH;
                    if ((uint)iy >= (uint)h) continue;
                    ref float xr = ref Unsafe.Add(ref rx, (plane * h + iy) * width);
                    int i = 0;
                    if (isa == Isa.Vector256)
                        for (; i <= width - 8; i += 8)
                            Vector256.Max(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref rm, (nuint)i)).StoreUnsafe(ref rm, (nuint)i);
                    for (; i <= width - 4; i += 4)
                        Vector128.Max(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref rm, (nuint)i)).StoreUnsafe(ref rm, (nuint)i);
                    for (; i < width; i++) Unsafe.Add(ref rm, i) = MathF.Max(Unsafe.Add(ref rm, i), Unsafe.Add(ref xr, i));
                }
                ref float yr = ref Unsafe.Add(ref ry, (plane * oh + oy) * ow);
                int vecEnd = lo;
                if (strideW == 2 && isa == Isa.Vector256 && Avx2.IsSupported)
                {
                    // Eight interior outputs at a time: tap kx of outputs o..o+7 is the even lanes of rm from 2o - padLeft + kx*dilationW.
                    for (; vecEnd + 8 <= hi; vecEnd += 8)
                    {
                        var m = Vector256.Create(float.NegativeInfinity);
                        for (int kx = 0; kx < kw; kx++)
                        {
                            ref float t = ref Unsafe.Add(ref rm, 2 * vecEnd - padLeft + kx * dilationW);
                            var even = Avx2.Permute4x64(Avx.Shuffle(Vector256.LoadUnsafe(ref t), Vector256.LoadUnsafe(ref t, 8), 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
                            m = Vector256.Max(m, even);
                        }
                        m.StoreUnsafe(ref yr, (nuint)vecEnd);
                    }
                }
                for (int ox = 0; ox < ow; ox++)
                {
                    if (ox == lo && vecEnd > lo) ox = vecEnd;   // [lo, vecEnd) done with vectors
                    if (ox >= ow) break;
                    int ix0 = ox * strideW - padLeft;
                    float m = float.NegativeInfinity;
                    if (ox >= lo && ox < hi)
                        for (int kx = 0; kx < kw; kx++) m = MathF.Max(m, Unsafe.Add(ref rm, ix0 + kx * dilationW));
                    else
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ix0 + kx * dilationW;
                            if ((uint)ix < (uint)width) m = MathF.Max(m, Unsafe.Add(ref rm, ix));
                        }
                    Unsafe.Add(ref yr, ox) = m;
                }
            }
    }

    private static float MaxPoint(ReadOnlySpan<float> x, int plane, int h, int width, int kh, int kw, int iy0, int ix0, int dilationH, int dilationW)
    {
        float m = float.NegativeInfinity;
        for (int ky = 0; ky < kh; ky++)
        {
            int iy = iy0 + ky * dilationH;
            if ((uint)iy >= (uint)h) continue;
            for (int kx = 0; kx < kw; kx++)
            {
                int ix = ix0 + kx * dilationW;
                if ((uint)ix >= (uint)width) continue;
                m = MathF.Max(m, x[(plane * h + iy) * width + ix]);
            }
        }
        return m;
    }

    /// <summary>AveragePool has no vector path (it is rarely hot); it is the scalar reference on every path.</summary>
    internal static void AveragePool2DCore(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad, Isa isa)
        => AveragePool2DScalar(x, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, padBottom, padRight, countIncludePad);

    /// <summary>Global pooling: vector sums/maxima along each channel (sums reordered across lanes).</summary>
    internal static void GlobalCore(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial, bool max, Isa isa)
    {
        if (isa == Isa.Scalar)
        {
            GlobalScalar(x, y, channels, spatial, max);
            return;
        }
        for (int i = 0; i < channels; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * spatial, spatial);
            if (max) y[i] = Reduce.MaxRow(row, isa);
            else y[i] = spatial == 0 ? 0f : Reduce.SumRow(row, isa) / spatial;
        }
    }
}
