using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>
/// The row-tile convolution (<see cref="Isa.Vector512"/> only): for wide output rows and a reduction that fits a stack
/// buffer, each output row is computed straight from zero-padded copies of the input rows it reads, with no im2col
/// panel and no partial sums in memory (docs/kernels.md, "Float GEMM and convolution paths").
/// </summary>
public static partial class Conv
{
    /// <summary>Floats of padded input rows on the stack (48 KiB): c * kh rows of <see cref="RowTileRowFloats"/>.</summary>
    internal const int RowTileBufferFloats = 12288;

    /// <summary>Largest reduction c * kh * kw of the row-tile path (its tap offsets: 8 KiB of stack).</summary>
    internal const int RowTileMaxTaps = 2048;

    /// <summary>Narrowest output row the row-tile path takes (it was measured on 56- and 112-wide rows).</summary>
    internal const int RowTileMinWidth = 32;

    /// <summary>
    /// Length of one phase of a padded input row: output column ox and tap kx read phase (kx * dilationW) mod strideW at
    /// index ox + (kx * dilationW) / strideW, and the vector loads of the last 16-column tile stay inside it.
    /// </summary>
    internal static int RowTilePhase(int ow, int kw, int strideW, int dilationW) => ow + (kw - 1) * dilationW / strideW + 1;

    /// <summary>Floats of one padded input row (all its phases).</summary>
    internal static int RowTileRowFloats(int ow, int kw, int strideW, int dilationW) => strideW * RowTilePhase(ow, kw, strideW, dilationW);

    /// <summary>
    /// Whether <see cref="Conv2DRowTiles512"/> runs the shape: the AVX-512 GEMM path, one group, output channels in
    /// strips of 8, output rows a multiple of 8 and at least <see cref="RowTileMinWidth"/> wide, strideW 1 or 2, and
    /// the padded rows and tap offsets within their stack bounds.
    /// </summary>
    internal static bool RowTilesApply(Isa isa, int c, int k, int kh, int kw, int ow, int strideW, int dilationW, int group)
        => isa == Isa.Vector512 && group == 1 && k % 8 == 0 && k > 0 && c > 0 && ow >= RowTileMinWidth && ow % 8 == 0
           && strideW is 1 or 2 && (long)c * kh * kw <= RowTileMaxTaps
           && (long)c * kh * RowTileRowFloats(ow, kw, strideW, dilationW) <= RowTileBufferFloats;

    /// <summary>
    /// Per image and output row: the c * kh input rows the row reads are copied into zero-padded stack rows (split into
    /// even and odd columns for strideW 2, so every tap is a plain vector load), then each 8-channel x 16-column tile of
    /// the output row (8 columns for the last one when ow is not a multiple of 16) is summed over all c * kh * kw taps in
    /// zmm (ymm) registers: bias first, then the products in the reference's (channel, ky, kx) order, activation, one
    /// store; a 56-wide row (ResNet's 56x56 maps) goes 4 channels x the whole row at a time (<see cref="RowTile4x56"/>).
    /// Only FMA rounding separates it from the reference; taps in the padding add w * 0 instead of being skipped
    /// (identical for finite weights, as in <see cref="Conv2DIm2Col"/>). Stack: <see cref="RowTileBufferFloats"/> floats of
    /// rows and <see cref="RowTileMaxTaps"/> tap offsets (56 KiB). Callers have checked <see cref="RowTilesApply"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void Conv2DRowTiles512(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1)
    {
        int taps = c * kh * kw, phase = RowTilePhase(ow, kw, strideW, dilationW), rowFloats = strideW * phase;
        int planeIn = h * width, planeOut = oh * ow;
        Span<float> rows = stackalloc float[RowTileBufferFloats];
        Span<int> offsets = stackalloc int[RowTileMaxTaps];
        // Tap t = (ic, ky, kx) reads row ic * kh + ky at phase (kx * dilationW) mod strideW, index ox + (kx * dilationW) / strideW.
        for (int ic = 0, t = 0; ic < c; ic++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++)
                {
                    int reach = kx * dilationW;
                    offsets[t] = (ic * kh + ky) * rowFloats + (reach % strideW) * phase + reach / strideW;
                }
        ref float rr = ref MemoryMarshal.GetReference(rows);
        ref int ro = ref MemoryMarshal.GetReference(offsets);
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        int ow16 = ow & ~15;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ic = 0; ic < c; ic++)
                    for (int ky = 0; ky < kh; ky++)
                        FillPaddedRow(x, (b * c + ic) * planeIn, oy * strideH + ky * dilationH - padTop, h, width, padLeft, strideW,
                            phase, rows.Slice((ic * kh + ky) * rowFloats, rowFloats));
                int yRow = b * k * planeOut + oy * ow;
                if (ow == 56)
                {
                    // A whole 56-wide row per channel (3 zmm + 1 ymm): no half-used 8-column tile.
                    for (int i = 0; i < k; i += 4)
                        RowTile4x56(ref Unsafe.Add(ref rw, i * taps), taps, ref rr, ref ro, hasBias, ref Unsafe.Add(ref rbias, hasBias ? i : 0),
                            ref Unsafe.Add(ref ry, yRow + i * planeOut), planeOut);
                    if (act != Activation.None)
                        for (int i = 0; i < k; i += 8) ApplyRows8(act, y, yRow + i * planeOut, planeOut, ow, p0, p1);
                    continue;
                }
                for (int i = 0; i < k; i += 8)
                {
                    ref float wi = ref Unsafe.Add(ref rw, i * taps);
                    ref float bi = ref Unsafe.Add(ref rbias, hasBias ? i : 0);
                    ref float yi = ref Unsafe.Add(ref ry, yRow + i * planeOut);
                    for (int j = 0; j < ow16; j += 16)
                        RowTile8x16(ref wi, taps, ref Unsafe.Add(ref rr, j), ref ro, hasBias, ref bi, ref Unsafe.Add(ref yi, j), planeOut);
                    if (ow16 < ow)
                        RowTile8x8(ref wi, taps, ref Unsafe.Add(ref rr, ow16), ref ro, hasBias, ref bi, ref Unsafe.Add(ref yi, ow16), planeOut);
                    if (act != Activation.None) ApplyRows8(act, y, yRow + i * planeOut, planeOut, ow, p0, p1);
                }
            }
    }

    /// <summary>
    /// dst = input row iy of the plane at xPlane, zero-padded: padded column j holds x[j - padLeft] (0 outside [0, width)),
    /// stored at dst[j] for strideW 1, at dst[(j mod 2) * phase + j / 2] for strideW 2; a row outside [0, h) is all zeros.
    /// </summary>
    private static void FillPaddedRow(ReadOnlySpan<float> x, int xPlane, int iy, int h, int width, int padLeft, int strideW, int phase, Span<float> dst)
    {
        if ((uint)iy >= (uint)h) { dst.Clear(); return; }
        ref float src = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), xPlane + iy * width);
        ref float d = ref MemoryMarshal.GetReference(dst);
        if (strideW == 1)
        {
            // Padded columns [0, phase): x[j - padLeft] inside the input.
            int lo = Math.Min(padLeft, phase), hi = Math.Min(phase, padLeft + width);
            for (int j = 0; j < lo; j++) Unsafe.Add(ref d, j) = 0f;
            if (hi > lo) CopyRow(ref Unsafe.Add(ref src, lo - padLeft), ref Unsafe.Add(ref d, lo), hi - lo, Isa.Vector256);
            for (int j = Math.Max(lo, hi); j < phase; j++) Unsafe.Add(ref d, j) = 0f;
            return;
        }
        // strideW 2: phase p (0 even, 1 odd) holds padded columns 2i + p, i in [0, phase).
        for (int p = 0; p < 2; p++)
        {
            ref float dp = ref Unsafe.Add(ref d, p * phase);
            // Inside the input: 0 <= 2i + p - padLeft < width.
            int iLo = Math.Min(phase, Math.Max(0, (padLeft - p + 1) / 2));
            int iHi = Math.Max(iLo, Math.Min(phase, (width + padLeft - p + 1) / 2));
            for (int i = 0; i < iLo; i++) Unsafe.Add(ref dp, i) = 0f;
            if (iHi > iLo) GatherEven(ref Unsafe.Add(ref src, 2 * iLo + p - padLeft), ref Unsafe.Add(ref dp, iLo), iHi - iLo, Isa.Vector256);
            for (int i = iHi; i < phase; i++) Unsafe.Add(ref dp, i) = 0f;
        }
    }

    /// <summary>
    /// Output channels i..i+8 x columns j..j+16 of one output row: rows of w at w0 + r * taps, tap t's 16 inputs at
    /// row0 + offsets[t] (row0 is the padded rows at column j), outputs at y0 + r * planeOut.
    /// </summary>
    private static void RowTile8x16(ref float w0, int taps, ref float row0, ref int offsets, bool hasBias, ref float bias0, ref float y0, int planeOut)
    {
        ref float w1 = ref Unsafe.Add(ref w0, taps);
        ref float w2 = ref Unsafe.Add(ref w1, taps);
        ref float w3 = ref Unsafe.Add(ref w2, taps);
        ref float w4 = ref Unsafe.Add(ref w3, taps);
        ref float w5 = ref Unsafe.Add(ref w4, taps);
        ref float w6 = ref Unsafe.Add(ref w5, taps);
        ref float w7 = ref Unsafe.Add(ref w6, taps);
        Vector512<float> v0, v1, v2, v3, v4, v5, v6, v7;
        if (hasBias)
        {
            v0 = Vector512.Create(bias0); v1 = Vector512.Create(Unsafe.Add(ref bias0, 1));
            v2 = Vector512.Create(Unsafe.Add(ref bias0, 2)); v3 = Vector512.Create(Unsafe.Add(ref bias0, 3));
            v4 = Vector512.Create(Unsafe.Add(ref bias0, 4)); v5 = Vector512.Create(Unsafe.Add(ref bias0, 5));
            v6 = Vector512.Create(Unsafe.Add(ref bias0, 6)); v7 = Vector512.Create(Unsafe.Add(ref bias0, 7));
        }
        else
        {
            v0 = Vector512<float>.Zero; v1 = v0; v2 = v0; v3 = v0; v4 = v0; v5 = v0; v6 = v0; v7 = v0;
        }
        for (int t = 0; t < taps; t++)
        {
            var bv = Vector512.LoadUnsafe(ref row0, (nuint)Unsafe.Add(ref offsets, t));
            v0 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w0, t)), bv, v0);
            v1 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w1, t)), bv, v1);
            v2 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w2, t)), bv, v2);
            v3 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w3, t)), bv, v3);
            v4 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w4, t)), bv, v4);
            v5 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w5, t)), bv, v5);
            v6 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w6, t)), bv, v6);
            v7 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w7, t)), bv, v7);
        }
        v0.StoreUnsafe(ref y0);
        v1.StoreUnsafe(ref Unsafe.Add(ref y0, planeOut));
        v2.StoreUnsafe(ref Unsafe.Add(ref y0, 2 * planeOut));
        v3.StoreUnsafe(ref Unsafe.Add(ref y0, 3 * planeOut));
        v4.StoreUnsafe(ref Unsafe.Add(ref y0, 4 * planeOut));
        v5.StoreUnsafe(ref Unsafe.Add(ref y0, 5 * planeOut));
        v6.StoreUnsafe(ref Unsafe.Add(ref y0, 6 * planeOut));
        v7.StoreUnsafe(ref Unsafe.Add(ref y0, 7 * planeOut));
    }

    /// <summary>
    /// Output channels i..i+4 x a whole 56-column output row (ResNet's 56x56 maps): per channel three zmm and one ymm
    /// accumulator (14 registers' worth of sums, four input loads and four weight broadcasts per 14 zmm-equivalent FMAs),
    /// so the row's last 8 columns do not take a half-used 8-row tile of their own.
    /// </summary>
    private static void RowTile4x56(ref float w0, int taps, ref float row0, ref int offsets, bool hasBias, ref float bias0, ref float y0, int planeOut)
    {
        ref float w1 = ref Unsafe.Add(ref w0, taps);
        ref float w2 = ref Unsafe.Add(ref w1, taps);
        ref float w3 = ref Unsafe.Add(ref w2, taps);
        Vector512<float> a0, b0, c0, d0;
        if (hasBias)
        {
            a0 = Vector512.Create(bias0); b0 = Vector512.Create(Unsafe.Add(ref bias0, 1));
            c0 = Vector512.Create(Unsafe.Add(ref bias0, 2)); d0 = Vector512.Create(Unsafe.Add(ref bias0, 3));
        }
        else
        {
            a0 = Vector512<float>.Zero; b0 = a0; c0 = a0; d0 = a0;
        }
        Vector512<float> a1 = a0, a2 = a0, b1 = b0, b2 = b0, c1 = c0, c2 = c0, d1 = d0, d2 = d0;
        Vector256<float> a3 = a0.GetLower(), b3 = b0.GetLower(), c3 = c0.GetLower(), d3 = d0.GetLower();
        for (int t = 0; t < taps; t++)
        {
            ref float src = ref Unsafe.Add(ref row0, Unsafe.Add(ref offsets, t));
            var x0 = Vector512.LoadUnsafe(ref src);
            var x1 = Vector512.LoadUnsafe(ref src, 16);
            var x2 = Vector512.LoadUnsafe(ref src, 32);
            var x3 = Vector256.LoadUnsafe(ref src, 48);
            var w = Vector512.Create(Unsafe.Add(ref w0, t));
            a0 = Simd.MulAdd(w, x0, a0); a1 = Simd.MulAdd(w, x1, a1); a2 = Simd.MulAdd(w, x2, a2); a3 = Simd.MulAdd(w.GetLower(), x3, a3);
            w = Vector512.Create(Unsafe.Add(ref w1, t));
            b0 = Simd.MulAdd(w, x0, b0); b1 = Simd.MulAdd(w, x1, b1); b2 = Simd.MulAdd(w, x2, b2); b3 = Simd.MulAdd(w.GetLower(), x3, b3);
            w = Vector512.Create(Unsafe.Add(ref w2, t));
            c0 = Simd.MulAdd(w, x0, c0); c1 = Simd.MulAdd(w, x1, c1); c2 = Simd.MulAdd(w, x2, c2); c3 = Simd.MulAdd(w.GetLower(), x3, c3);
            w = Vector512.Create(Unsafe.Add(ref w3, t));
            d0 = Simd.MulAdd(w, x0, d0); d1 = Simd.MulAdd(w, x1, d1); d2 = Simd.MulAdd(w, x2, d2); d3 = Simd.MulAdd(w.GetLower(), x3, d3);
        }
        a0.StoreUnsafe(ref y0); a1.StoreUnsafe(ref y0, 16); a2.StoreUnsafe(ref y0, 32); a3.StoreUnsafe(ref y0, 48);
        ref float y1 = ref Unsafe.Add(ref y0, planeOut);
        b0.StoreUnsafe(ref y1); b1.StoreUnsafe(ref y1, 16); b2.StoreUnsafe(ref y1, 32); b3.StoreUnsafe(ref y1, 48);
        ref float y2 = ref Unsafe.Add(ref y1, planeOut);
        c0.StoreUnsafe(ref y2); c1.StoreUnsafe(ref y2, 16); c2.StoreUnsafe(ref y2, 32); c3.StoreUnsafe(ref y2, 48);
        ref float y3 = ref Unsafe.Add(ref y2, planeOut);
        d0.StoreUnsafe(ref y3); d1.StoreUnsafe(ref y3, 16); d2.StoreUnsafe(ref y3, 32); d3.StoreUnsafe(ref y3, 48);
    }

    /// <summary><see cref="RowTile8x16"/> for the last 8 columns of a row (ymm accumulators: the same FMA rate per column on Zen 4).</summary>
    private static void RowTile8x8(ref float w0, int taps, ref float row0, ref int offsets, bool hasBias, ref float bias0, ref float y0, int planeOut)
    {
        ref float w1 = ref Unsafe.Add(ref w0, taps);
        ref float w2 = ref Unsafe.Add(ref w1, taps);
        ref float w3 = ref Unsafe.Add(ref w2, taps);
        ref float w4 = ref Unsafe.Add(ref w3, taps);
        ref float w5 = ref Unsafe.Add(ref w4, taps);
        ref float w6 = ref Unsafe.Add(ref w5, taps);
        ref float w7 = ref Unsafe.Add(ref w6, taps);
        Vector256<float> v0, v1, v2, v3, v4, v5, v6, v7;
        if (hasBias)
        {
            v0 = Vector256.Create(bias0); v1 = Vector256.Create(Unsafe.Add(ref bias0, 1));
            v2 = Vector256.Create(Unsafe.Add(ref bias0, 2)); v3 = Vector256.Create(Unsafe.Add(ref bias0, 3));
            v4 = Vector256.Create(Unsafe.Add(ref bias0, 4)); v5 = Vector256.Create(Unsafe.Add(ref bias0, 5));
            v6 = Vector256.Create(Unsafe.Add(ref bias0, 6)); v7 = Vector256.Create(Unsafe.Add(ref bias0, 7));
        }
        else
        {
            v0 = Vector256<float>.Zero; v1 = v0; v2 = v0; v3 = v0; v4 = v0; v5 = v0; v6 = v0; v7 = v0;
        }
        for (int t = 0; t < taps; t++)
        {
            var bv = Vector256.LoadUnsafe(ref row0, (nuint)Unsafe.Add(ref offsets, t));
            v0 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w0, t)), bv, v0);
            v1 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w1, t)), bv, v1);
            v2 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w2, t)), bv, v2);
            v3 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w3, t)), bv, v3);
            v4 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w4, t)), bv, v4);
            v5 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w5, t)), bv, v5);
            v6 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w6, t)), bv, v6);
            v7 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref w7, t)), bv, v7);
        }
        v0.StoreUnsafe(ref y0);
        v1.StoreUnsafe(ref Unsafe.Add(ref y0, planeOut));
        v2.StoreUnsafe(ref Unsafe.Add(ref y0, 2 * planeOut));
        v3.StoreUnsafe(ref Unsafe.Add(ref y0, 3 * planeOut));
        v4.StoreUnsafe(ref Unsafe.Add(ref y0, 4 * planeOut));
        v5.StoreUnsafe(ref Unsafe.Add(ref y0, 5 * planeOut));
        v6.StoreUnsafe(ref Unsafe.Add(ref y0, 6 * planeOut));
        v7.StoreUnsafe(ref Unsafe.Add(ref y0, 7 * planeOut));
    }

    /// <summary>
    /// The activation on 8 channels' output row just stored (still in L1). A separate method: with the activation's calls
    /// in the tile kernels the JIT keeps accumulators on the stack inside the tap loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ApplyRows8(Activation act, Span<float> y, int start, int planeOut, int ow, float p0, float p1)
    {
        for (int r = 0; r < 8; r++) ActivationKernel.ApplyInPlace(act, y.Slice(start + r * planeOut, ow), p0, p1, Isa.Vector256);
    }
}
