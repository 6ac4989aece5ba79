using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>2-D convolution (ONNX Conv, NCHW) with a fused bias and activation.</summary>
public static partial class Conv
{
    /// <summary>
    /// y[n, k, oh, ow] = act(bias[k] + sum over c/group input channels and the kh x kw window of w * x).
    /// x is NCHW [n, c, h, width]; w is [k, c/group, kh, kw] (ONNX layout); bias is [k] or empty.
    /// Padding: padTop/padLeft are given; bottom/right padding is implied by oh/ow (taps outside the input read 0).
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the shape arguments, or an attribute is out of range.</exception>
    public static void Conv2D(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1)
    {
        Validate(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group);
        Conv2DCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, KernelPaths.BestGemm);
    }

    internal static void Validate(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group)
    {
        if (n < 0 || c < 0 || h < 0 || width < 0 || k < 0 || kh < 1 || kw < 1 || oh < 0 || ow < 0)
            throw new ArgumentException($"Conv2D: bad shape n={n}, c={c}, h={h}, width={width}, k={k}, kh={kh}, kw={kw}, oh={oh}, ow={ow}.", nameof(n));
        if (strideH < 1) throw new ArgumentException("Conv2D: stride must be >= 1.", nameof(strideH));
        if (strideW < 1) throw new ArgumentException("Conv2D: stride must be >= 1.", nameof(strideW));
        if (dilationH < 1) throw new ArgumentException("Conv2D: dilation must be >= 1.", nameof(dilationH));
        if (dilationW < 1) throw new ArgumentException("Conv2D: dilation must be >= 1.", nameof(dilationW));
        if (padTop < 0) throw new ArgumentException("Conv2D: padding must be >= 0.", nameof(padTop));
        if (padLeft < 0) throw new ArgumentException("Conv2D: padding must be >= 0.", nameof(padLeft));
        if (group < 1 || c % group != 0 || k % group != 0)
            throw new ArgumentException($"Conv2D: group {group} must divide c={c} and k={k}.", nameof(group));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"Conv2D: x has {x.Length} elements, expected n*c*h*width = {(long)n * c * h * width}.", nameof(x));
        long wLen = (long)k * (c / group) * kh * kw;
        if (w.Length != wLen) throw new ArgumentException($"Conv2D: w has {w.Length} elements, expected k*(c/group)*kh*kw = {wLen}.", nameof(w));
        if (!bias.IsEmpty && bias.Length != k) throw new ArgumentException($"Conv2D: bias has {bias.Length} elements, expected 0 or k = {k}.", nameof(bias));
        if (y.Length != (long)n * k * oh * ow) throw new ArgumentException($"Conv2D: y has {y.Length} elements, expected n*k*oh*ow = {(long)n * k * oh * ow}.", nameof(y));
    }

    /// <summary>
    /// The specification: each output starts from the bias and adds w * x over (input channel, ky, kx)
    /// in that order, skipping taps outside the input; then the activation.
    /// </summary>
    internal static void Conv2DScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1)
    {
        int cg = c / group, kg = k / group;
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < k; oc++)
            {
                int g = oc / kg;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float acc = bias.IsEmpty ? 0f : bias[oc];
                        for (int ic = 0; ic < cg; ic++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = oy * strideH - padTop + ky * dilationH;
                                if ((uint)iy >= (uint)h) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ox * strideW - padLeft + kx * dilationW;
                                    if ((uint)ix >= (uint)width) continue;
                                    acc += w[((oc * cg + ic) * kh + ky) * kw + kx] * x[((b * c + g * cg + ic) * h + iy) * width + ix];
                                }
                            }
                        y[((b * k + oc) * oh + oy) * ow + ox] = ActivationKernel.Apply(act, acc, p0, p1);
                    }
            }
    }

    /// <summary>
    /// Chooses the fast path for the shape: 1x1 stride 1 (a GEMM), depthwise 3x3 (strideW 1 or 2), small planes (16-64 output
    /// pixels, stride 1, <see cref="SmallPlaneApplies"/>), channel tiles (AVX-512,
    /// small planes, <see cref="ChannelTilesApply"/>), row tiles (AVX-512, wide output rows, <see cref="RowTilesApply"/>), im2col + GEMM
    /// (at least 4 output channels per group, when one channel's taps fit the panel), the shifted per-tap GEMM
    /// (strideW 1, kernels too large for the panel), or the general direct convolution. <paramref name="allowChannelTiles"/> and
    /// <paramref name="allowRowTiles"/> false skip those two paths: the parts of a multi-threaded call (<see cref="Conv2DParallel"/>)
    /// pass whether the whole convolution takes them, since both also depend on the number of output channels.
    /// </summary>
    internal static void Conv2DCore(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa, bool allowChannelTiles = true, bool allowRowTiles = true)
    {
        if (isa == Isa.Scalar)
            Conv2DScalar(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1);
        else if (kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && oh == h && ow == width)
            Conv2D1x1(x, w, bias, y, n, c, h * width, k, group, act, p0, p1, isa);
        else if (group == c && k == c && kh == 3 && kw == 3 && strideW <= 2 && DepthwisePaddedApplies(isa.General(), strideW, dilationH, dilationW, ow))
            Conv2DDepthwise3x3Padded(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1);
        else if (group == c && k == c && kh == 3 && kw == 3 && strideW <= 2)
            Conv2DDepthwise3x3(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1, isa.General());
        else if (SmallPlaneApplies(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group))
            Conv2DSmallPlane(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, padTop, padLeft, act, p0, p1, isa);
        else if (allowChannelTiles && ChannelTilesApply(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group))
            Conv2DChannelTiles512(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1);
        else if (allowRowTiles && RowTilesApply(isa, c, k, kh, kw, ow, strideW, dilationW, group))
            Conv2DRowTiles512(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1);
        else if (k / group >= 4 && Im2ColBlock(kh * kw, oh * ow) > 0)
            Conv2DIm2Col(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, isa);
        else if (strideW == 1 && k / group >= 4)
            Conv2DShiftedGemm(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, isa);
        else
            Conv2DDirect(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, isa.General());
    }

    /// <summary>Floats of the im2col panel on the stack (64 KiB): kernels allocate nothing and keep no shared state.</summary>
    internal const int Im2ColPanelFloats = 16384;

    /// <summary>
    /// Output columns per im2col block for a kernel of <paramref name="taps"/> = kh*kw taps over an output plane of
    /// <paramref name="planeOut"/> pixels: the whole plane when it has at most 256 pixels, else a multiple of 16 up
    /// to 256, so that at least one input channel's taps (taps x block floats) fit the panel; 0 when even 8
    /// columns of one channel do not fit (very large kernels: the caller takes another path).
    /// </summary>
    internal static int Im2ColBlock(int taps, int planeOut)
    {
        int cap = Im2ColPanelFloats / taps;
        if (cap < 8 || planeOut == 0) return 0;
        if (planeOut <= Math.Min(256, cap)) return planeOut;
        int nb = Math.Min(256, cap);
        return nb >= 16 ? nb & ~15 : nb & ~7;
    }

    /// <summary>
    /// The general path (any stride, dilation and padding, at least 4 output channels per group): per image and
    /// group the convolution is one GEMM y[kg, oh*ow] = W[kg, cg*kh*kw] @ X[cg*kh*kw, oh*ow], where X is the im2col
    /// matrix of the input. X is never materialized: it is gathered in panels of (a block of output pixels) x
    /// (as many whole input channels as fit <see cref="Im2ColPanelFloats"/>) in a stack buffer and multiplied with
    /// the register-blocked GEMM microkernel, accumulating into y (which starts at the bias). The K index of the
    /// panel is (ic, ky, kx), the reference's order, so each output is the bias plus the products in the
    /// reference's order (only FMA rounding differs). Taps outside the input are zeros in the panel instead of
    /// being skipped: identical for finite weights (up to the sign of a zero result); a NaN or infinite weight
    /// makes the outputs whose window covers the padding NaN, as ONNX's zero padding does, where the reference
    /// skips those taps.
    /// </summary>
    [SkipLocalsInit]
    internal static void Conv2DIm2Col(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa)
    {
        int cg = c / group, kg = k / group, planeIn = h * width, planeOut = oh * ow, taps = kh * kw, kAll = cg * taps;
        int nb = Im2ColBlock(taps, planeOut);
        if (nb == 0) throw new InvalidOperationException("Conv2DIm2Col: the kernel window does not fit the panel.");
        Span<float> panel = stackalloc float[Im2ColPanelFloats];
        ref float rp = ref MemoryMarshal.GetReference(panel);
        ref float rx = ref MemoryMarshal.GetReference(x);
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                Span<float> yb = y.Slice((b * k + g * kg) * planeOut, kg * planeOut);
                ReadOnlySpan<float> bg = bias.IsEmpty ? bias : bias.Slice(g * kg, kg);
                int xBase = (b * c + g * cg) * planeIn;
                ReadOnlySpan<float> wg = w.Slice(g * kg * kAll, kg * kAll);
                for (int j0 = 0; j0 < planeOut; j0 += nb)
                {
                    int cols = Math.Min(nb, planeOut - j0);
                    int chunk = Math.Max(1, Math.Min(cg, Im2ColPanelFloats / (taps * cols)));
                    // The first chunk starts the outputs at the bias (0 without one), the last applies the activation
                    // (a chunk loop that runs once even for cg = 0, so the outputs are always written).
                    int ic0 = 0;
                    do
                    {
                        int chans = Math.Min(chunk, cg - ic0);
                        // Gather rows p = (ic - ic0, ky, kx) of the panel, each `cols` wide: per tap, the row
                        // geometry is worked out once for all the chunk's channels (it matters on small planes).
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                ref float row = ref Unsafe.Add(ref rp, (ky * kw + kx) * cols);
                                GatherRow(ref rx, xBase + ic0 * planeIn, ref row, j0, cols, h, width, ow, strideH, strideW,
                                    ky * dilationH - padTop, kx * dilationW - padLeft, chans, planeIn, taps * cols, isa.General());
                            }
                        // y[kg, j0..j0+cols) (+)= W[kg, ic0*taps .. (ic0+chans)*taps) @ panel.
                        bool lastChunk = ic0 + chans >= cg;
                        Gemm.MultiplyNN(wg.Slice(ic0 * taps), kAll, 1, panel, cols,
                            yb.Slice(j0), planeOut, kg, chans * taps, cols, accumulate: ic0 > 0,
                            ic0 == 0 ? bg : ReadOnlySpan<float>.Empty, lastChunk ? act : Activation.None, p0, p1, isa);
                        ic0 += chunk;
                    }
                    while (ic0 < cg);
                }
            }
    }

    /// <summary>
    /// One im2col row per channel: for output pixels j0..j0+cols (row-major over the output plane), the input value
    /// at (oy*strideH + rowShift, ox*strideW + colShift) of the plane at xPlane + ch*srcStride, or 0 outside the
    /// input, into dst + ch*dstStride, for ch in [0, chans).
    /// </summary>
    private static void GatherRow(ref float rx, int xPlane0, ref float dst0, int j0, int cols, int h, int width, int ow,
        int strideH, int strideW, int rowShift, int colShift, int chans, int srcStride, int dstStride, Isa isa)
    {
        int lo = ColumnsFrom(-colShift, strideW), hi = Math.Min(ow, ColumnsTo(width - 1 - colShift, strideW));
        int j = j0, end = j0 + cols, d = 0;
        while (j < end)
        {
            int oy = j / ow, ox0 = j - oy * ow;
            int ox1 = Math.Min(ow, ox0 + (end - j));
            int iy = oy * strideH + rowShift;
            int n = ox1 - ox0;
            if ((uint)iy >= (uint)h || lo >= hi)
            {
                for (int ch = 0; ch < chans; ch++)
                    MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst0, ch * dstStride + d), n).Clear();
            }
            else
            {
                int a = Math.Clamp(lo, ox0, ox1), z = Math.Clamp(hi, a, ox1);
                int count = z - a;
                // Taps a..z are inside the row: src[i * strideW] is the tap of output column a + i, o[i] its panel slot.
                int srcOffset = xPlane0 + iy * width + Math.Clamp(a * strideW + colShift, 0, width - 1);
                for (int ch = 0; ch < chans; ch++)
                {
                    ref float dst = ref Unsafe.Add(ref dst0, ch * dstStride);
                    // The padding columns (a few per row at most: the kernel's reach past the border) one at a time.
                    for (int t = d; t < d + (a - ox0); t++) Unsafe.Add(ref dst, t) = 0f;
                    for (int t = d + (z - ox0); t < d + (ox1 - ox0); t++) Unsafe.Add(ref dst, t) = 0f;
                    ref float src = ref Unsafe.Add(ref rx, srcOffset + ch * srcStride);
                    ref float o = ref Unsafe.Add(ref dst, d + (a - ox0));
                    if (count == 0) { }
                    else if (strideW == 1)
                        CopyRow(ref src, ref o, count, isa);
                    else if (strideW == 2)
                        GatherEven(ref src, ref o, count, isa);
                    else
                        for (int i = 0; i < count; i++) Unsafe.Add(ref o, i) = Unsafe.Add(ref src, i * strideW);
                }
            }
            d += n;
            j += n;
        }
    }

    /// <summary>
    /// o[i] = src[i] for i in [0, count), inline: the segments are short (a row of the output plane, often under 64
    /// floats), where a call to a general memory copy costs about as much as the copy. Vectors of 8 (or 4), the last
    /// one overlapping its predecessor instead of a scalar tail (a copy: rewriting an element is harmless).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(ref float src, ref float o, int count, Isa isa)
    {
        if (isa == Isa.Vector256 && count >= 8)
        {
            int i = 0;
            for (; i <= count - 8; i += 8) Vector256.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref o, (nuint)i);
            if (i < count) Vector256.LoadUnsafe(ref src, (nuint)(count - 8)).StoreUnsafe(ref o, (nuint)(count - 8));
        }
        else if (isa >= Isa.Vector128 && count >= 4)
        {
            int i = 0;
            for (; i <= count - 4; i += 4) Vector128.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref o, (nuint)i);
            if (i < count) Vector128.LoadUnsafe(ref src, (nuint)(count - 4)).StoreUnsafe(ref o, (nuint)(count - 4));
        }
        else
            for (int i = 0; i < count; i++) Unsafe.Add(ref o, i) = Unsafe.Add(ref src, i);
    }

    /// <summary>
    /// o[i] = src[2i] for i in [0, count). The vector loops read src[2i .. 2i + 2*lanes), one element past the last
    /// one they use, so they run only while that element is still at or below src[2(count-1)], the last tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GatherEven(ref float src, ref float o, int count, Isa isa)
    {
        int i = 0;
        if (isa == Isa.Vector256 && Avx2.IsSupported)
            for (; 2 * i + 15 <= 2 * (count - 1); i += 8)
                EvenLanes256(ref Unsafe.Add(ref src, 2 * i)).StoreUnsafe(ref Unsafe.Add(ref o, i));
        if (isa >= Isa.Vector128 && Sse.IsSupported)
            for (; 2 * i + 7 <= 2 * (count - 1); i += 4)
                EvenLanes128(ref Unsafe.Add(ref src, 2 * i)).StoreUnsafe(ref Unsafe.Add(ref o, i));
        for (; i < count; i++) Unsafe.Add(ref o, i) = Unsafe.Add(ref src, 2 * i);
    }

    /// <summary>p[0], p[2], ..., p[14] (reads p[0..16)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> EvenLanes256(ref float p)
    {
        var lo = Vector256.LoadUnsafe(ref p);
        var hi = Vector256.LoadUnsafe(ref p, 8);
        var s = Avx.Shuffle(lo, hi, 0b10_00_10_00);   // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
        return Avx2.Permute4x64(s.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary>p[0], p[2], p[4], p[6] (reads p[0..8)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> EvenLanes128(ref float p)
        => Sse.Shuffle(Vector128.LoadUnsafe(ref p), Vector128.LoadUnsafe(ref p, 4), 0b10_00_10_00);

    /// <summary>
    /// strideW 1 with at least 4 output channels per group: for every output row and tap (ky, kx) the layer is a small
    /// GEMM, y[kg, oy, lo..hi) += W[kg, cg](ky, kx) @ x[cg, iy, lo+shift..hi+shift), run on the register-blocked
    /// microkernel straight from the tensors (no im2col buffer). The sum per output is ordered (ky, kx, channel)
    /// instead of the reference's (channel, ky, kx): tolerance, not bit-exactness.
    /// </summary>
    internal static void Conv2DShiftedGemm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa)
    {
        int cg = c / group, kg = k / group, planeIn = h * width, planeOut = oh * ow;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                int yBase = (b * k + g * kg) * planeOut, xBase = (b * c + g * cg) * planeIn;
                Span<float> yb = y.Slice(yBase, kg * planeOut);
                for (int oc = 0; oc < kg; oc++) yb.Slice(oc * planeOut, planeOut).Fill(bias.IsEmpty ? 0f : bias[g * kg + oc]);
                for (int oy = 0; oy < oh; oy++)
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * strideH - padTop + ky * dilationH;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int shift = kx * dilationW - padLeft;
                            int lo = ColumnsFrom(-shift, 1), hi = Math.Min(ow, ColumnsTo(width - 1 - shift, 1));
                            if (lo >= hi) continue;
                            // A[oc, ic] = w[g*kg + oc, ic, ky, kx]; B[ic, j] = x[ic, iy, lo + shift + j]; C[oc, j] = y[oc, oy, lo + j].
                            Gemm.MultiplyNN(w.Slice((g * kg * cg * kh + ky) * kw + kx), cg * kh * kw, kh * kw,
                                x.Slice(xBase + iy * width + lo + shift), planeIn,
                                yb.Slice(oy * ow + lo), planeOut, kg, cg, hi - lo, accumulate: true, isa);
                        }
                    }
                ActivationKernel.ApplyInPlace(act, yb, p0, p1, isa.General());
            }
    }

    /// <summary>1x1, stride 1, no padding: per image and group, y[kg, hw] = bias + W[kg, cg] @ x[cg, hw].</summary>
    internal static void Conv2D1x1(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int hw, int k, int group, Activation act, float p0, float p1, Isa isa)
    {
        int cg = c / group, kg = k / group;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                Span<float> yb = y.Slice((b * k + g * kg) * hw, kg * hw);
                // Bias and activation fused into the GEMM (no separate passes over y).
                Gemm.MultiplyNN(w.Slice(g * kg * cg), cg, 1, x.Slice((b * c + g * cg) * hw), hw, yb, hw, kg, cg, hw,
                    accumulate: false, bias.IsEmpty ? bias : bias.Slice(g * kg, kg), act, p0, p1, isa);
            }
    }

    /// <summary>
    /// The general direct convolution: each output plane starts at the bias, then for every (input channel,
    /// ky, kx) the weight times the shifted input row is added over the output columns whose tap is inside
    /// the input (a vector axpy when strideW is 1). Per output, the order of the sum is the reference's.
    /// </summary>
    internal static void Conv2DDirect(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa)
    {
        int cg = c / group, kg = k / group;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < k; oc++)
            {
                int g = oc / kg;
                int planeOffset = (b * k + oc) * oh * ow;
                Span<float> plane = y.Slice(planeOffset, oh * ow);
                plane.Fill(bias.IsEmpty ? 0f : bias[oc]);
                for (int ic = 0; ic < cg; ic++)
                {
                    int xPlane = (b * c + g * cg + ic) * h * width;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                        {
                            float wv = w[((oc * cg + ic) * kh + ky) * kw + kx];
                            int shift = kx * dilationW - padLeft;      // ix = ox * strideW + shift
                            int lo = ColumnsFrom(-shift, strideW);
                            int hi = Math.Min(ow, ColumnsTo(width - 1 - shift, strideW));
                            if (lo >= hi) continue;
                            for (int oy = 0; oy < oh; oy++)
                            {
                                int iy = oy * strideH - padTop + ky * dilationH;
                                if ((uint)iy >= (uint)h) continue;
                                ref float xr = ref Unsafe.Add(ref rx, xPlane + iy * width);
                                ref float yr = ref Unsafe.Add(ref ry, planeOffset + oy * ow);
                                if (strideW == 1)
                                    Rows.Axpy(ref Unsafe.Add(ref xr, lo + shift), ref Unsafe.Add(ref yr, lo), hi - lo, wv, isa);
                                else
                                    for (int ox = lo; ox < hi; ox++) Unsafe.Add(ref yr, ox) += wv * Unsafe.Add(ref xr, ox * strideW + shift);
                            }
                        }
                }
                ActivationKernel.ApplyInPlace(act, plane, p0, p1, isa);
            }
    }

    /// <summary>The first output column whose tap ox*stride + shift is >= 0, given num = -shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ColumnsFrom(int num, int stride) => num <= 0 ? 0 : (num + stride - 1) / stride;

    /// <summary>One past the last output column whose tap is &lt;= width-1, given num = width-1-shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ColumnsTo(int num, int stride) => num < 0 ? 0 : num / stride + 1;

    /// <summary>
    /// Depthwise 3x3 (one input and one output channel per group), strideW 1 or 2: the interior columns, where
    /// all three horizontal taps are inside the input, are computed a vector at a time (strideW 2 de-interleaves
    /// the even and odd input columns with shuffles); the border columns with the scalar formula.
    /// Order per output: bias, then (ky, kx), as in the reference.
    /// </summary>
    internal static void Conv2DDepthwise3x3(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1, Isa isa)
    {
        // Interior columns: ox*strideW - padLeft >= 0 and ox*strideW - padLeft + 2*dilationW <= width - 1.
        int lo = Math.Min(ow, ColumnsFrom(padLeft, strideW));
        int hi = Math.Max(lo, Math.Min(ow, ColumnsTo(width - 1 - 2 * dilationW + padLeft, strideW)));
        // strideW 2 vector loops load 2*lanes floats from each tap, one past the last one used: the last vector
        // block must keep that element inside the row (ox*2 - padLeft + 2*dilationW + 2*lanes - 1 <= width - 1).
        int hi8 = strideW == 1 ? hi : Math.Max(lo, Math.Min(hi, ColumnsTo(width - 16 - 2 * dilationW + padLeft, 2) + 7));
        int hi4 = strideW == 1 ? hi : Math.Max(lo, Math.Min(hi, ColumnsTo(width - 8 - 2 * dilationW + padLeft, 2) + 3));
        bool vec256 = isa == Isa.Vector256 && (strideW == 1 || Avx2.IsSupported);
        bool vec128 = isa >= Isa.Vector128 && (strideW == 1 || Sse.IsSupported);
        ref float rx = ref MemoryMarshal.GetReference(x);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                ReadOnlySpan<float> wk = w.Slice(ch * 9, 9);
                float bv = bias.IsEmpty ? 0f : bias[ch];
                int xPlane = (b * c + ch) * h * width;
                Span<float> plane = y.Slice((b * c + ch) * oh * ow, oh * ow);
                for (int oy = 0; oy < oh; oy++)
                {
                    Span<float> yr = plane.Slice(oy * ow, ow);
                    int iy0 = oy * strideH - padTop;
                    for (int ox = 0; ox < lo; ox++) yr[ox] = DepthwisePoint(x, xPlane, wk, bv, h, width, iy0, ox * strideW - padLeft, dilationH, dilationW);
                    for (int ox = hi; ox < ow; ox++) yr[ox] = DepthwisePoint(x, xPlane, wk, bv, h, width, iy0, ox * strideW - padLeft, dilationH, dilationW);
                    int o = lo;
                    ref float yo = ref MemoryMarshal.GetReference(yr);
                    if (vec256 && iy0 >= 0 && iy0 + 2 * dilationH < h)
                    {
                        // Interior rows (most of the work): all three input rows are inside, so no per-tap row test,
                        // and the nine weights are broadcast once per row instead of once per vector.
                        ref float x0 = ref Unsafe.Add(ref rx, xPlane + iy0 * width - padLeft);
                        ref float x1 = ref Unsafe.Add(ref x0, dilationH * width);
                        ref float x2 = ref Unsafe.Add(ref x1, dilationH * width);
                        var w0 = Vector256.Create(wk[0]); var w1 = Vector256.Create(wk[1]); var w2 = Vector256.Create(wk[2]);
                        var w3 = Vector256.Create(wk[3]); var w4 = Vector256.Create(wk[4]); var w5 = Vector256.Create(wk[5]);
                        var w6 = Vector256.Create(wk[6]); var w7 = Vector256.Create(wk[7]); var w8 = Vector256.Create(wk[8]);
                        var vb = Vector256.Create(bv);
                        nuint d1 = (nuint)dilationW, d2 = (nuint)(2 * dilationW);
                        // [o, hi8) in vectors of 8, the last one overlapping its predecessor instead of leaving a
                        // ragged tail to the scalar code (outputs are written, not accumulated: recomputing is harmless).
                        int oLast = hi8 - 8;
                        if (strideW == 2 && o <= oLast)
                            for (; ; o = Math.Min(o + 8, oLast))
                            {
                                int u = 2 * o;
                                var acc = Simd.MulAdd(w0, EvenLanes256(ref Unsafe.Add(ref x0, u)), vb);
                                acc = Simd.MulAdd(w1, EvenLanes256(ref Unsafe.Add(ref x0, u + dilationW)), acc);
                                acc = Simd.MulAdd(w2, EvenLanes256(ref Unsafe.Add(ref x0, u + 2 * dilationW)), acc);
                                acc = Simd.MulAdd(w3, EvenLanes256(ref Unsafe.Add(ref x1, u)), acc);
                                acc = Simd.MulAdd(w4, EvenLanes256(ref Unsafe.Add(ref x1, u + dilationW)), acc);
                                acc = Simd.MulAdd(w5, EvenLanes256(ref Unsafe.Add(ref x1, u + 2 * dilationW)), acc);
                                acc = Simd.MulAdd(w6, EvenLanes256(ref Unsafe.Add(ref x2, u)), acc);
                                acc = Simd.MulAdd(w7, EvenLanes256(ref Unsafe.Add(ref x2, u + dilationW)), acc);
                                acc = Simd.MulAdd(w8, EvenLanes256(ref Unsafe.Add(ref x2, u + 2 * dilationW)), acc);
                                acc.StoreUnsafe(ref yo, (nuint)o);
                                if (o == oLast) { o = hi8; break; }
                            }
                        if (strideW == 1 && o <= oLast)
                            for (; ; o = Math.Min(o + 8, oLast))
                            {
                                nuint u = (nuint)o;
                                var acc = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref x0, u), vb);
                                acc = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref x0, u + d1), acc);
                                acc = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref x0, u + d2), acc);
                                acc = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref x1, u), acc);
                                acc = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref x1, u + d1), acc);
                                acc = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref x1, u + d2), acc);
                                acc = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref x2, u), acc);
                                acc = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref x2, u + d1), acc);
                                acc = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref x2, u + d2), acc);
                                acc.StoreUnsafe(ref yo, u);
                                if (o == oLast) { o = hi8; break; }
                            }
                    }
                    if (vec256)
                    {
                        for (; o <= hi8 - 8; o += 8)
                        {
                            var acc = Vector256.Create(bv);
                            for (int ky = 0; ky < 3; ky++)
                            {
                                int iy = iy0 + ky * dilationH;
                                if ((uint)iy >= (uint)h) continue;
                                ref float xr = ref Unsafe.Add(ref rx, xPlane + iy * width + o * strideW - padLeft);
                                Vector256<float> t0, t1, t2;
                                if (strideW == 1)
                                {
                                    t0 = Vector256.LoadUnsafe(ref xr);
                                    t1 = Vector256.LoadUnsafe(ref xr, (nuint)dilationW);
                                    t2 = Vector256.LoadUnsafe(ref xr, (nuint)(2 * dilationW));
                                }
                                else
                                {
                                    t0 = EvenLanes256(ref xr);
                                    t1 = EvenLanes256(ref Unsafe.Add(ref xr, dilationW));
                                    t2 = EvenLanes256(ref Unsafe.Add(ref xr, 2 * dilationW));
                                }
                                acc = Simd.MulAdd(Vector256.Create(wk[ky * 3]), t0, acc);
                                acc = Simd.MulAdd(Vector256.Create(wk[ky * 3 + 1]), t1, acc);
                                acc = Simd.MulAdd(Vector256.Create(wk[ky * 3 + 2]), t2, acc);
                            }
                            acc.StoreUnsafe(ref yo, (nuint)o);
                        }
                    }
                    if (vec128)
                    {
                        for (; o <= hi4 - 4; o += 4)
                        {
                            var acc = Vector128.Create(bv);
                            for (int ky = 0; ky < 3; ky++)
                            {
                                int iy = iy0 + ky * dilationH;
                                if ((uint)iy >= (uint)h) continue;
                                ref float xr = ref Unsafe.Add(ref rx, xPlane + iy * width + o * strideW - padLeft);
                                Vector128<float> t0, t1, t2;
                                if (strideW == 1)
                                {
                                    t0 = Vector128.LoadUnsafe(ref xr);
                                    t1 = Vector128.LoadUnsafe(ref xr, (nuint)dilationW);
                                    t2 = Vector128.LoadUnsafe(ref xr, (nuint)(2 * dilationW));
                                }
                                else
                                {
                                    t0 = EvenLanes128(ref xr);
                                    t1 = EvenLanes128(ref Unsafe.Add(ref xr, dilationW));
                                    t2 = EvenLanes128(ref Unsafe.Add(ref xr, 2 * dilationW));
                                }
                                acc = Simd.MulAdd(Vector128.Create(wk[ky * 3]), t0, acc);
                                acc = Simd.MulAdd(Vector128.Create(wk[ky * 3 + 1]), t1, acc);
                                acc = Simd.MulAdd(Vector128.Create(wk[ky * 3 + 2]), t2, acc);
                            }
                            acc.StoreUnsafe(ref yo, (nuint)o);
                        }
                    }
                    for (; o < hi; o++) yr[o] = DepthwisePoint(x, xPlane, wk, bv, h, width, iy0, o * strideW - padLeft, dilationH, dilationW);
                }
                ActivationKernel.ApplyInPlace(act, plane, p0, p1, isa);
            }
    }

    /// <summary>One output of the depthwise 3x3 in the reference's order; the taps are tested against the input
    /// bounds here, and the caller has validated x (and wk has 9 elements), so the reads are unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DepthwisePoint(ReadOnlySpan<float> x, int xPlane, ReadOnlySpan<float> wk, float bias,
        int h, int width, int iy0, int ix0, int dilationH, int dilationW)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rw = ref MemoryMarshal.GetReference(wk);
        float acc = bias;
        for (int ky = 0; ky < 3; ky++)
        {
            int iy = iy0 + ky * dilationH;
            if ((uint)iy >= (uint)h) continue;
            for (int kx = 0; kx < 3; kx++)
            {
                int ix = ix0 + kx * dilationW;
                if ((uint)ix >= (uint)width) continue;
                acc += Unsafe.Add(ref rw, ky * 3 + kx) * Unsafe.Add(ref rx, xPlane + iy * width + ix);
            }
        }
        return acc;
    }
}
