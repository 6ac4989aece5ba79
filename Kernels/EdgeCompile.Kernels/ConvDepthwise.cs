using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

// The padded-row depthwise 3x3 kernel (the Vector256 path of Conv2DCore for depthwise 3x3, strideW 1 or 2).
public static partial class Conv
{
    /// <summary>Longest padded input row of <see cref="Conv2DDepthwise3x3Padded"/> (floats; its stack is at most
    /// 7 such rows, 56 KiB).</summary>
    internal const int DepthwiseRowMax = 2048;

    /// <summary>Padded row length of <see cref="Conv2DDepthwise3x3Padded"/>: every tap of ow outputs plus a 16-float
    /// vector overrun, rounded up to a multiple of 16 (every ring slot, and the odd half of a strideW-2 row, starts at the
    /// same offset modulo 32 bytes; at most <see cref="DepthwiseRowMax"/> when the unrounded length is).</summary>
    private static int DepthwisePaddedRow(int ow, int strideW, int dilationW) => ((ow - 1) * strideW + 2 * dilationW + 17 + 15) & ~15;

    /// <summary>
    /// Whether <see cref="Conv2DDepthwise3x3Padded"/> runs the shape: the Vector256 path (AVX2 for strideW 2), a
    /// vertical dilation that keeps the three rows of a window in distinct ring slots (not a multiple of 3), and
    /// padded rows within <see cref="DepthwiseRowMax"/>.
    /// </summary>
    internal static bool DepthwisePaddedApplies(Isa isa, int strideW, int dilationH, int dilationW, int ow)
        => isa == Isa.Vector256 && (strideW == 1 || Avx2.IsSupported) && dilationH % 3 != 0 && ow >= 1
           && (long)(ow - 1) * strideW + 2L * dilationW + 17 <= DepthwiseRowMax;

    /// <summary>
    /// Depthwise 3x3 (one input and one output channel per group), strideW 1 or 2, on the Vector256 path: each input
    /// row is copied once into a ring of zero-padded stack rows (rows above and below the input read a zero row;
    /// for strideW 2 the copy is split into its even and odd columns, so every tap is a plain vector load), and every
    /// output, borders included, is computed with no bounds tests, four vectors of 8 at a time with their nine
    /// multiply-adds interleaved (<see cref="DepthwiseRow{TAct}"/>). With dilationH 1 and strideH 1 or 2 (MobileNet's
    /// layers) the ring has 5 slots and the rows of the next output row are copied before the current one is
    /// computed, so the vector loads never wait on the stores that just filled their row (store-to-load forwarding
    /// fails for loads that straddle two stores); otherwise 3 slots, filled on first use. Order per output: bias, then
    /// (ky, kx), as in the reference, each a fused multiply-add; taps in the padding add w * 0 instead of being
    /// skipped, which is identical for finite weights (up to the sign of a zero result), as in the im2col path.
    /// Relu and Clip are applied in registers with maxps/minps (a NaN stays NaN; a -0 result may stay -0 where the
    /// scalar reference gives +0), the other piecewise-linear activations with <see cref="ActivationKernel.Apply256"/>,
    /// the rest once per plane.
    /// Small planes take <see cref="DepthwiseChannels8{TAct}"/> (8 channels per vector; bit-identical results) when
    /// <see cref="DepthwiseChannelsApplies"/>; <paramref name="channelBlocks"/> false keeps every channel on the padded
    /// rows (tests compare the two).
    /// Stack: ring + zero row + staging row, at most 7 rows of <see cref="DepthwisePaddedRow"/> floats, each at most
    /// <see cref="DepthwiseRowMax"/> (56 KiB).
    /// </summary>
    internal static void Conv2DDepthwise3x3Padded(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1, bool channelBlocks = true)
    {
        switch (act)
        {
            case Activation.None:
                Depthwise<DwNone>(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1, channelBlocks);
                break;
            case Activation.Relu:
                Depthwise<DwRelu>(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1, channelBlocks);
                break;
            case Activation.Clip:
                Depthwise<DwClip>(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1, channelBlocks);
                break;
            default:
                Depthwise<DwOther>(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1, channelBlocks);
                break;
        }
    }

    /// <summary>Channel blocks of 8 through <see cref="DepthwiseChannels8{TAct}"/> when the shape allows it (small planes),
    /// the other channels through the padded rows.</summary>
    private static void Depthwise<TAct>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1, bool channelBlocks) where TAct : struct, IDepthwiseActivation
    {
        int c0 = 0;
        if (channelBlocks && DepthwiseChannelsApplies(c, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW))
        {
            DepthwiseChannels8<TAct>(x, w, bias, y, n, c, h, width, oh, ow, strideH, strideW, padTop, padLeft, act, p0, p1);
            c0 = c & ~7;
        }
        if (c0 < c)
            DepthwisePadded<TAct>(x, w, bias, y, n, c, c0, h, width, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, act, p0, p1);
    }

    /// <summary>Floats of <see cref="DepthwiseChannels8{TAct}"/>'s pixel-major tile (32 KiB of stack).</summary>
    internal const int DepthwiseTileFloats = 8192;

    /// <summary>
    /// Output rows per strip of <see cref="DepthwiseChannels8{TAct}"/>: as many as fit the tile ((rows - 1) * strideH + 3
    /// tile rows of (ow - 1) * strideW + 3 cells of 8 floats), at most oh; 0 when not even one fits.
    /// </summary>
    private static int DepthwiseStripRows(int oh, int ow, int strideH, int strideW)
    {
        long tw8 = ((long)(ow - 1) * strideW + 3) * 8;
        long tileRows = DepthwiseTileFloats / tw8;
        return tileRows < 3 ? 0 : (int)Math.Min(oh, (tileRows - 3) / strideH + 1);
    }

    /// <summary>
    /// Whether <see cref="DepthwiseChannels8{TAct}"/> runs the shape: AVX, at least 8 channels, dilation 1, an input row
    /// that fits a tile row (padLeft + width &lt;= (ow - 1) * strideW + 3), and enough pixels for its blocks of 8: when
    /// the plane takes one strip (<see cref="DepthwiseStripRows"/>), at least 8 output pixels and 8 input pixels in the
    /// tile; with several strips, AVX-512VL (32 registers), rows of at least 8 input and 8 output pixels, and strips of
    /// at least 8 input rows' stride (MobileNetV2 with AVX-512: every depthwise layer but the 112x112 stride-1 one;
    /// AVX2 only: the 28x28, 14x14 and 7x7 layers).
    /// </summary>
    internal static bool DepthwiseChannelsApplies(int c, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW)
    {
        if (!Avx.IsSupported || c < 8 || dilationH != 1 || dilationW != 1 || oh < 1 || ow < 1) return false;
        if (padLeft + (long)width > (long)(ow - 1) * strideW + 3) return false;
        int rows = DepthwiseStripRows(oh, ow, strideH, strideW);
        if (rows == 0) return false;
        // Several strips: each transposes its 3 - strideH halo rows again, so at least 8 new input rows per strip
        // (MobileNetV2's 112x112 stride-1 layer, 6 rows per strip, measured slower this way than on the padded rows);
        // and only with AVX-512VL's 32 vector registers (8 accumulators + 9 weights + bias spill with 16: the large
        // planes measured slower than on the padded rows with DOTNET_EnableAVX512=0).
        if (rows < oh) return Avx512F.VL.IsSupported && rows * strideH >= 8 && width >= 8 && ow >= 8;
        long th = (long)(oh - 1) * strideH + 3;
        long inside = Math.Min(h, th - padTop) - Math.Max(0, -padTop);
        return (long)oh * ow >= 8 && inside * width >= 8;
    }

    /// <summary>
    /// Depthwise 3x3, dilation 1, 8 channels at a time. Per block of 8 channels (8 consecutive planes of x) and strip of
    /// output rows (<see cref="DepthwiseStripRows"/>; the whole plane when it fits), the strip's input rows are transposed
    /// (8x8 shuffles) into a zero-padded pixel-major stack tile, tile[ty, tx, channel]; each output pixel is then one
    /// vector of its 8 channels: bias, then the nine taps in (ky, kx) order, each a fused multiply-add with that tap's 8
    /// weights, as in the padded-row kernel (bit-identical to it); 8 pixels at a time, transposed back and stored as 8
    /// floats of each of the 8 output planes. The last block of 8 pixels (input and output) overlaps its predecessor (the
    /// values written are the same). Tile cells outside the input are zero: the columns are never written (cleared once),
    /// the rows above and below the input are cleared per strip. Stack: the tile, at most
    /// <see cref="DepthwiseTileFloats"/> floats (32 KiB). Channels past the last multiple of 8 are left to the caller.
    /// </summary>
    [SkipLocalsInit]
    private static void DepthwiseChannels8<TAct>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        Activation act, float p0, float p1) where TAct : struct, IDepthwiseActivation
    {
        int strip = DepthwiseStripRows(oh, ow, strideH, strideW);
        int th = (strip - 1) * strideH + 3, tw = (ow - 1) * strideW + 3;
        Span<float> tileSpan = stackalloc float[th * tw * 8];
        tileSpan.Clear();
        ref float tile = ref MemoryMarshal.GetReference(tileSpan);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rb = ref MemoryMarshal.GetReference(bias);
        bool inRegisters = Gemm.IsVectorActivation(act);
        Activation regAct = inRegisters ? act : Activation.None;
        var q0 = Vector256.Create(p0); var q1 = Vector256.Create(p1);
        int ip = h * width, op = oh * ow, c8 = c & ~7;
        nuint tw8 = (nuint)tw * 8;
        int rowStep = strideH * tw * 8, colStep = strideW * 8;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < c8; g += 8)
            {
                ref float xg = ref Unsafe.Add(ref rx, (b * c + g) * ip);
                ref float wg = ref Unsafe.Add(ref rw, g * 9);
                var w0 = Weights8(ref wg, 0); var w1 = Weights8(ref wg, 1); var w2 = Weights8(ref wg, 2);
                var w3 = Weights8(ref wg, 3); var w4 = Weights8(ref wg, 4); var w5 = Weights8(ref wg, 5);
                var w6 = Weights8(ref wg, 6); var w7 = Weights8(ref wg, 7); var w8 = Weights8(ref wg, 8);
                var vb = bias.IsEmpty ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref rb, (nuint)g);
                ref float yg = ref Unsafe.Add(ref ry, (b * c + g) * op);
                for (int oy0 = 0; oy0 < oh; oy0 += strip)
                {
                    int rows = Math.Min(strip, oh - oy0);
                    int iyTop = oy0 * strideH - padTop, tRows = (rows - 1) * strideH + 3;
                    int iyA = Math.Max(0, iyTop), iyB = Math.Min(h, iyTop + tRows);
                    // Tile rows above and below the input (a previous strip or block may have filled them).
                    if (iyTop < 0) tileSpan.Slice(0, Math.Min(tRows, -iyTop) * tw * 8).Clear();
                    if (iyTop + tRows > h)
                    {
                        int from = Math.Max(0, h - iyTop);
                        tileSpan.Slice(from * tw * 8, (tRows - from) * tw * 8).Clear();
                    }
                    int pA = iyA * width, pB = iyB * width;
                    if (pB > pA) TransposeIn(ref xg, ip, width, pA, pB, iyTop, padLeft, tw, ref tile);
                    int qA = oy0 * ow, qB = (oy0 + rows) * ow;
                    // NextPixel carries (rowBase, ox) from one block of 8 to the next; only the last block, which
                    // overlaps its predecessor, restarts them (a division per block cost more than the taps here).
                    int ox = 0, rowBase = 0;
                    for (int q = qA; ; )
                    {
                        var a0 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a1 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a2 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a3 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a4 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a5 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a6 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        var a7 = Taps9(ref tile, NextPixel(ref rowBase, ref ox, ow, rowStep, colStep), tw8, w0, w1, w2, w3, w4, w5, w6, w7, w8, vb);
                        a0 = TAct.Apply(regAct, a0, q0, q1); a1 = TAct.Apply(regAct, a1, q0, q1);
                        a2 = TAct.Apply(regAct, a2, q0, q1); a3 = TAct.Apply(regAct, a3, q0, q1);
                        a4 = TAct.Apply(regAct, a4, q0, q1); a5 = TAct.Apply(regAct, a5, q0, q1);
                        a6 = TAct.Apply(regAct, a6, q0, q1); a7 = TAct.Apply(regAct, a7, q0, q1);
                        Transpose8x8(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                        nuint v = (nuint)q, t = (nuint)op;
                        a0.StoreUnsafe(ref yg, v); a1.StoreUnsafe(ref yg, v + t);
                        a2.StoreUnsafe(ref yg, v + 2 * t); a3.StoreUnsafe(ref yg, v + 3 * t);
                        a4.StoreUnsafe(ref yg, v + 4 * t); a5.StoreUnsafe(ref yg, v + 5 * t);
                        a6.StoreUnsafe(ref yg, v + 6 * t); a7.StoreUnsafe(ref yg, v + 7 * t);
                        if (q == qB - 8) break;
                        q += 8;
                        if (q > qB - 8)
                        {
                            q = qB - 8;
                            int oy = q / ow;
                            ox = q - oy * ow;
                            rowBase = (oy - oy0) * rowStep;
                        }
                    }
                }
                if (!inRegisters) ActivationKernel.ApplyInPlace(act, y.Slice((b * c + g) * op, 8 * op), p0, p1, Isa.Vector256);
            }
    }

    /// <summary>
    /// Transposes input pixels [pA, pB) of 8 consecutive planes (<paramref name="ip"/> floats apart) into the pixel-major
    /// tile: pixel p = iy * width + ix goes to cell (iy - iyTop, ix + padLeft). Blocks of 8 pixels; the last block
    /// overlaps its predecessor (pB - pA &gt;= 8). Its own method, so the caller's nine weight vectors are not live
    /// here (inlined, they pushed the transpose's registers to the stack), and the position is carried from block to
    /// block by <see cref="StorePixel"/> instead of a division per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TransposeIn(ref float xg, int ip, int width, int pA, int pB, int iyTop, int padLeft, int tw, ref float tile)
    {
        int iy = pA / width, ix = pA - iy * width;
        int off = ((iy - iyTop) * tw + ix + padLeft) * 8;
        nuint s = (nuint)ip;
        for (int p = pA; ; )
        {
            nuint u = (nuint)p;
            var v0 = Vector256.LoadUnsafe(ref xg, u); var v1 = Vector256.LoadUnsafe(ref xg, u + s);
            var v2 = Vector256.LoadUnsafe(ref xg, u + 2 * s); var v3 = Vector256.LoadUnsafe(ref xg, u + 3 * s);
            var v4 = Vector256.LoadUnsafe(ref xg, u + 4 * s); var v5 = Vector256.LoadUnsafe(ref xg, u + 5 * s);
            var v6 = Vector256.LoadUnsafe(ref xg, u + 6 * s); var v7 = Vector256.LoadUnsafe(ref xg, u + 7 * s);
            Transpose8x8(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
            StorePixel(v0, ref tile, ref off, ref ix, width, tw);
            StorePixel(v1, ref tile, ref off, ref ix, width, tw);
            StorePixel(v2, ref tile, ref off, ref ix, width, tw);
            StorePixel(v3, ref tile, ref off, ref ix, width, tw);
            StorePixel(v4, ref tile, ref off, ref ix, width, tw);
            StorePixel(v5, ref tile, ref off, ref ix, width, tw);
            StorePixel(v6, ref tile, ref off, ref ix, width, tw);
            StorePixel(v7, ref tile, ref off, ref ix, width, tw);
            if (p == pB - 8) break;
            p += 8;
            if (p > pB - 8)
            {
                p = pB - 8;
                iy = p / width;
                ix = p - iy * width;
                off = ((iy - iyTop) * tw + ix + padLeft) * 8;
            }
        }
    }

    /// <summary>Stores one input pixel's 8 channels at tile offset <paramref name="off"/> and moves to the next pixel
    /// of the plane (the tile row is tw cells wide, the input row width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePixel(Vector256<float> v, ref float tile, ref int off, ref int ix, int width, int tw)
    {
        v.StoreUnsafe(ref tile, (nuint)off);
        off += 8;
        if (++ix == width) { ix = 0; off += (tw - width) * 8; }
    }

    /// <summary>The tile offset of the current output pixel (window's top-left cell), then moves to the next pixel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint NextPixel(ref int rowBase, ref int ox, int ow, int rowStep, int colStep)
    {
        nuint at = (nuint)(rowBase + ox * colStep);
        if (++ox == ow) { ox = 0; rowBase += rowStep; }
        return at;
    }

    /// <summary>Tap t's weights of 8 consecutive channels (w is [channel, 9]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Weights8(ref float wg, int t)
        => Vector256.Create(Unsafe.Add(ref wg, t), Unsafe.Add(ref wg, 9 + t), Unsafe.Add(ref wg, 18 + t), Unsafe.Add(ref wg, 27 + t),
            Unsafe.Add(ref wg, 36 + t), Unsafe.Add(ref wg, 45 + t), Unsafe.Add(ref wg, 54 + t), Unsafe.Add(ref wg, 63 + t));

    /// <summary>bias + the nine taps of one output pixel in (ky, kx) order, 8 channels (tile rows are
    /// <paramref name="tw8"/> floats apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Taps9(ref float tile, nuint at, nuint tw8, Vector256<float> w0, Vector256<float> w1, Vector256<float> w2,
        Vector256<float> w3, Vector256<float> w4, Vector256<float> w5, Vector256<float> w6, Vector256<float> w7, Vector256<float> w8, Vector256<float> vb)
    {
        ref float t0 = ref Unsafe.Add(ref tile, at);
        ref float t1 = ref Unsafe.Add(ref t0, tw8);
        ref float t2 = ref Unsafe.Add(ref t1, tw8);
        var acc = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref t0), vb);
        acc = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref t0, 8), acc);
        acc = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref t0, 16), acc);
        acc = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref t1), acc);
        acc = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref t1, 8), acc);
        acc = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref t1, 16), acc);
        acc = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref t2), acc);
        acc = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref t2, 8), acc);
        return Simd.MulAdd(w8, Vector256.LoadUnsafe(ref t2, 16), acc);
    }

    /// <summary>In-place 8x8 transpose: afterwards v_j holds element j of each of the original v_0..v_7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<float> v0, ref Vector256<float> v1, ref Vector256<float> v2, ref Vector256<float> v3,
        ref Vector256<float> v4, ref Vector256<float> v5, ref Vector256<float> v6, ref Vector256<float> v7)
    {
        var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
        var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
        var t6 = Avx.UnpackLow(v6, v7); var t7 = Avx.UnpackHigh(v6, v7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        v0 = Avx.Permute2x128(s0, s4, 0x20); v1 = Avx.Permute2x128(s1, s5, 0x20);
        v2 = Avx.Permute2x128(s2, s6, 0x20); v3 = Avx.Permute2x128(s3, s7, 0x20);
        v4 = Avx.Permute2x128(s0, s4, 0x31); v5 = Avx.Permute2x128(s1, s5, 0x31);
        v6 = Avx.Permute2x128(s2, s6, 0x31); v7 = Avx.Permute2x128(s3, s7, 0x31);
    }

    /// <summary>The padded-row kernel over channels [<paramref name="c0"/>, c) of each image.</summary>
    [SkipLocalsInit]
    private static void DepthwisePadded<TAct>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int c0, int h, int width, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1) where TAct : struct, IDepthwiseActivation
    {
        int wp = DepthwisePaddedRow(ow, strideW, dilationW);
        bool ahead = dilationH == 1 && strideH <= 2;
        // Two consecutive windows cover at most 5 consecutive rows (dilationH 1, strideH <= 2): distinct slots mod 5.
        // Without the look-ahead, the 3 rows of one window are distinct mod 3 (dilationH not a multiple of 3).
        int ring = ahead ? 5 : 3;
        Span<float> rows = stackalloc float[(ring + 2) * wp];
        // Slot `ring` is the zero row, slot ring + 1 the strideW-2 staging row. The padding columns of every slot are
        // the same for every input row, so they are zeroed once here and a row copy writes only the input's columns.
        rows.Clear();
        ref float rr = ref MemoryMarshal.GetReference(rows);
        ref float zero = ref Unsafe.Add(ref rr, ring * wp);
        ref float stage = ref Unsafe.Add(ref rr, (ring + 1) * wp);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float ry = ref MemoryMarshal.GetReference(y);
        Span<int> tags = stackalloc int[5];
        // Input columns [0, count) land at [padLeft, padLeft + count) of a padded row; the rest of the row is zeros.
        int lead = Math.Min(padLeft, wp), count = Math.Max(0, Math.Min(width, wp - padLeft));
        bool inRegisters = Gemm.IsVectorActivation(act);
        // Where tap kx of a window starts within a (padded or split) row: strideW 1: kx*dilationW; strideW 2: padded index
        // 2o + m (m = kx*dilationW) is even[o + m/2] or odd[o + (m-1)/2], the odd half starting at `half`.
        int half = wp / 2;
        int t1 = strideW == 1 ? dilationW : dilationW % 2 == 0 ? dilationW / 2 : half + (dilationW - 1) / 2;
        int t2 = strideW == 1 ? 2 * dilationW : dilationW;
        for (int b = 0; b < n; b++)
            for (int ch = c0; ch < c; ch++)
            {
                tags.Fill(int.MinValue);
                int xPlane = (b * c + ch) * h * width;
                ref float wk = ref Unsafe.Add(ref rw, ch * 9);
                float bv = bias.IsEmpty ? 0f : bias[ch];
                int planeOffset = (b * c + ch) * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                {
                    int iy0 = oy * strideH - padTop;
                    ref float x0 = ref PaddedRow(ref rx, xPlane, iy0, h, width, wp, lead, count, strideW, ring, ref rr, ref zero, ref stage, tags);
                    ref float x1 = ref PaddedRow(ref rx, xPlane, iy0 + dilationH, h, width, wp, lead, count, strideW, ring, ref rr, ref zero, ref stage, tags);
                    ref float x2 = ref PaddedRow(ref rx, xPlane, iy0 + 2 * dilationH, h, width, wp, lead, count, strideW, ring, ref rr, ref zero, ref stage, tags);
                    if (ahead && oy + 1 < oh)
                    {
                        int next = iy0 + strideH;
                        PaddedRow(ref rx, xPlane, next + 1, h, width, wp, lead, count, strideW, ring, ref rr, ref zero, ref stage, tags);
                        PaddedRow(ref rx, xPlane, next + 2, h, width, wp, lead, count, strideW, ring, ref rr, ref zero, ref stage, tags);
                    }
                    // The plane has at least 8 floats from this row's start: a row narrower than 8 may be written as one
                    // full vector (it spills into the plane's next rows, which are computed, and overwritten, later).
                    bool overrun = (oh - oy) * ow >= 8;
                    DepthwiseRow<TAct>(ref x0, ref x1, ref x2, t1, t2, ref wk, bv, ref Unsafe.Add(ref ry, planeOffset + oy * ow), ow,
                        inRegisters ? act : Activation.None, p0, p1, overrun);
                }
                if (!inRegisters) ActivationKernel.ApplyInPlace(act, y.Slice(planeOffset, oh * ow), p0, p1, Isa.Vector256);
            }
    }

    /// <summary>The activation of <see cref="DepthwiseRow{TAct}"/>, chosen once per call (a type argument: no
    /// per-vector switch).</summary>
    internal interface IDepthwiseActivation
    {
        static abstract Vector256<float> Apply(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1);
    }

    private struct DwNone : IDepthwiseActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1) => v;
    }

    // maxps/minps return their second operand when either is NaN: Max(0, v) and Min(p1, Max(p0, v)) keep a NaN in v.
    private struct DwRelu : IDepthwiseActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1)
            => Avx.IsSupported ? Avx.Max(Vector256<float>.Zero, v) : ActivationKernel.Apply256(Activation.Relu, v, p0, p1);
    }

    private struct DwClip : IDepthwiseActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1)
            => Avx.IsSupported ? Avx.Min(p1, Avx.Max(p0, v)) : ActivationKernel.Apply256(Activation.Clip, v, p0, p1);
    }

    /// <summary>The other activations: in registers when they have a vector form (act), else None here and the
    /// caller applies them per plane.</summary>
    private struct DwOther : IDepthwiseActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1)
            => act == Activation.None ? v : ActivationKernel.Apply256(act, v, p0, p1);
    }

    /// <summary>
    /// One output row of the padded-row depthwise 3x3: y[o] = act(bias + sum over (ky, kx) in order of w[ky, kx] *
    /// r_ky[o + t_kx]) for o in [0, ow), with t_0 = 0, t_1 = <paramref name="t1"/>, t_2 = <paramref name="t2"/>. Four
    /// vectors of 8 outputs per step with their multiply-adds interleaved (four independent chains the core overlaps),
    /// then vectors of 8, the last one overlapping its predecessor (outputs are written, not accumulated); a row
    /// narrower than 8 as one vector, stored whole when <paramref name="overrun"/> (the plane has 8 floats from the
    /// row's start; the caller recomputes what it spills into), else through a stack temp.
    /// </summary>
    [SkipLocalsInit]
    private static void DepthwiseRow<TAct>(ref float r0, ref float r1, ref float r2, int t1, int t2, ref float wk, float bias,
        ref float yo, int ow, Activation act, float p0, float p1, bool overrun) where TAct : struct, IDepthwiseActivation
    {
        var w0 = Vector256.Create(wk); var w1 = Vector256.Create(Unsafe.Add(ref wk, 1)); var w2 = Vector256.Create(Unsafe.Add(ref wk, 2));
        var w3 = Vector256.Create(Unsafe.Add(ref wk, 3)); var w4 = Vector256.Create(Unsafe.Add(ref wk, 4)); var w5 = Vector256.Create(Unsafe.Add(ref wk, 5));
        var w6 = Vector256.Create(Unsafe.Add(ref wk, 6)); var w7 = Vector256.Create(Unsafe.Add(ref wk, 7)); var w8 = Vector256.Create(Unsafe.Add(ref wk, 8));
        var vb = Vector256.Create(bias);
        ref float r01 = ref Unsafe.Add(ref r0, t1); ref float r02 = ref Unsafe.Add(ref r0, t2);
        ref float r11 = ref Unsafe.Add(ref r1, t1); ref float r12 = ref Unsafe.Add(ref r1, t2);
        ref float r21 = ref Unsafe.Add(ref r2, t1); ref float r22 = ref Unsafe.Add(ref r2, t2);
        var q0 = Vector256.Create(p0); var q1 = Vector256.Create(p1);
        int o = 0;
        for (; o + 32 <= ow; o += 32)
        {
            nuint u0 = (nuint)o, u1 = u0 + 8, u2 = u0 + 16, u3 = u0 + 24;
            var a0 = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0, u0), vb);
            var a1 = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0, u1), vb);
            var a2 = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0, u2), vb);
            var a3 = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0, u3), vb);
            a0 = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01, u0), a0);
            a1 = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01, u1), a1);
            a2 = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01, u2), a2);
            a3 = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01, u3), a3);
            a0 = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02, u0), a0);
            a1 = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02, u1), a1);
            a2 = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02, u2), a2);
            a3 = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02, u3), a3);
            a0 = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1, u0), a0);
            a1 = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1, u1), a1);
            a2 = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1, u2), a2);
            a3 = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1, u3), a3);
            a0 = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11, u0), a0);
            a1 = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11, u1), a1);
            a2 = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11, u2), a2);
            a3 = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11, u3), a3);
            a0 = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12, u0), a0);
            a1 = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12, u1), a1);
            a2 = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12, u2), a2);
            a3 = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12, u3), a3);
            a0 = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2, u0), a0);
            a1 = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2, u1), a1);
            a2 = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2, u2), a2);
            a3 = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2, u3), a3);
            a0 = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21, u0), a0);
            a1 = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21, u1), a1);
            a2 = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21, u2), a2);
            a3 = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21, u3), a3);
            a0 = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22, u0), a0);
            a1 = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22, u1), a1);
            a2 = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22, u2), a2);
            a3 = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22, u3), a3);
            TAct.Apply(act, a0, q0, q1).StoreUnsafe(ref yo, u0);
            TAct.Apply(act, a1, q0, q1).StoreUnsafe(ref yo, u1);
            TAct.Apply(act, a2, q0, q1).StoreUnsafe(ref yo, u2);
            TAct.Apply(act, a3, q0, q1).StoreUnsafe(ref yo, u3);
        }
        if (ow >= 8 || overrun)
            while (o < ow)
            {
                o = Math.Max(0, Math.Min(o, ow - 8));
                nuint u = (nuint)o;
                var acc = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0, u), vb);
                acc = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01, u), acc);
                acc = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02, u), acc);
                acc = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1, u), acc);
                acc = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11, u), acc);
                acc = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12, u), acc);
                acc = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2, u), acc);
                acc = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21, u), acc);
                acc = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22, u), acc);
                TAct.Apply(act, acc, q0, q1).StoreUnsafe(ref yo, u);
                o += 8;
            }
        else
        {
            // The plane's last rows, narrower than one vector: one vector, stored through a stack temp (the padded rows
            // hold every tap of 8 outputs; only ow of them are written to y).
            var acc = Simd.MulAdd(w0, Vector256.LoadUnsafe(ref r0), vb);
            acc = Simd.MulAdd(w1, Vector256.LoadUnsafe(ref r01), acc);
            acc = Simd.MulAdd(w2, Vector256.LoadUnsafe(ref r02), acc);
            acc = Simd.MulAdd(w3, Vector256.LoadUnsafe(ref r1), acc);
            acc = Simd.MulAdd(w4, Vector256.LoadUnsafe(ref r11), acc);
            acc = Simd.MulAdd(w5, Vector256.LoadUnsafe(ref r12), acc);
            acc = Simd.MulAdd(w6, Vector256.LoadUnsafe(ref r2), acc);
            acc = Simd.MulAdd(w7, Vector256.LoadUnsafe(ref r21), acc);
            acc = Simd.MulAdd(w8, Vector256.LoadUnsafe(ref r22), acc);
            acc = TAct.Apply(act, acc, q0, q1);
            Span<float> tmp = stackalloc float[8];
            acc.StoreUnsafe(ref MemoryMarshal.GetReference(tmp));
            tmp.Slice(0, ow).CopyTo(MemoryMarshal.CreateSpan(ref yo, ow));
        }
    }

    /// <summary>
    /// The padded copy of input row <paramref name="iy"/> (the zero row outside the input): ring slot iy mod
    /// <paramref name="ring"/>, filled on first use. strideW 2 stages the padded row in <paramref name="stage"/> and
    /// stores its even columns at the slot's start and its odd columns from wp / 2 (wp is a multiple of 16, so both
    /// halves start 32-byte aligned relative to the slot). The slots' padding columns are zero (the caller cleared them
    /// once).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float PaddedRow(ref float rx, int xPlane, int iy, int h, int width, int wp, int lead, int count, int strideW,
        int ring, ref float rows, ref float zero, ref float stage, Span<int> tags)
    {
        if ((uint)iy >= (uint)h) return ref zero;
        // A constant divisor (a multiply, not a division).
        int slot = (int)(ring == 5 ? (uint)iy % 5 : (uint)iy % 3);
        ref float row = ref Unsafe.Add(ref rows, slot * wp);
        if (tags[slot] != iy)
        {
            tags[slot] = iy;
            ref float dst = ref strideW == 1 ? ref row : ref stage;
            // Columns [lead, lead + count) only (the rest of the slot stays zero from the caller's clear).
            ref float src = ref Unsafe.Add(ref rx, xPlane + iy * width);
            ref float to = ref Unsafe.Add(ref dst, lead);
            int i = 0;
            for (; i + 8 <= count; i += 8) Vector256.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref to, (nuint)i);
            for (; i < count; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref src, i);
            if (strideW != 1)
            {
                int half = wp / 2, t = 0;
                ref float odd = ref Unsafe.Add(ref row, half);
                for (; 2 * t + 16 <= wp; t += 8)
                {
                    var lo = Vector256.LoadUnsafe(ref dst, (nuint)(2 * t));
                    var hi = Vector256.LoadUnsafe(ref dst, (nuint)(2 * t + 8));
                    Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref row, (nuint)t);
                    Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref odd, (nuint)t);
                }
                for (; 2 * t < wp; t++)
                {
                    Unsafe.Add(ref row, t) = Unsafe.Add(ref dst, 2 * t);
                    if (2 * t + 1 < wp) Unsafe.Add(ref odd, t) = Unsafe.Add(ref dst, 2 * t + 1);
                }
            }
        }
        return ref row;
    }
}
