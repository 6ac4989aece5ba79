using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// The channel-tile convolution (<see cref="Isa.Vector512"/> only) for small output planes (ResNet's 14x14 maps): output
/// channels in the vector lanes instead of output columns, so a 14-wide row wastes no lanes and needs no im2col panel
/// (docs/kernels.md, "Channel tiles for small planes").
/// </summary>
public static partial class Conv
{
    /// <summary>Taps (input channels x kh x kw) of one weight chunk: the chunk's weights, transposed to [tap][32 channels], are 32 KiB of stack.</summary>
    internal const int ChannelTileChunkTaps = 256;

    /// <summary>
    /// Floats of zero-padded input rows on the stack (49 KiB), also the scratch that turns a finished block of output channels
    /// into NCHW: 32 channels of up to 392 pixels, 16 channels of up to 784 (a 28x28 plane).
    /// </summary>
    internal const int ChannelTileBufferFloats = 12544;

    /// <summary>Output pixels of the tile (one zmm accumulator pair per pixel): rows are cut into runs of 7 (7, 14, 28 and 56 are multiples).</summary>
    internal const int ChannelTilePixels = 7;

    /// <summary>
    /// Output planes the path takes: at least 98 pixels, so that each transposed weight is used often enough to pay for its
    /// transposition (a 7x7 plane, 49 pixels, is not), and at most <see cref="ChannelTileBufferFloats"/> / 16 = 784 pixels, so
    /// that a finished block (<see cref="ChannelTileLanes"/> channels) fits the scratch.
    /// </summary>
    internal const int ChannelTileMinPlane = 98;

    /// <summary>
    /// Fewest taps of a chunk the path takes: the tiles' partial sums go through y once per chunk (a 1x1/2 convolution
    /// from 28x28, whose padded rows allow 15-tap chunks, measured at twice the im2col path's time).
    /// </summary>
    internal const int ChannelTileMinChunkTaps = 64;

    /// <summary>
    /// Output channels per block and tile: 32 (tiles of 32 channels x 7 pixels) when a 32-channel block of the plane fits the
    /// scratch, else 16 (tiles of 16 channels x 14 pixels: the same 14 accumulators).
    /// </summary>
    internal static int ChannelTileLanes(int planeOut) => (long)planeOut * 32 <= ChannelTileBufferFloats ? 32 : 16;

    /// <summary>Input channels per chunk: the taps within <see cref="ChannelTileChunkTaps"/>, the padded rows within <see cref="ChannelTileBufferFloats"/>.</summary>
    internal static int ChannelTileChunk(int taps, int paddedRows, int rowFloats)
        => Math.Min(ChannelTileChunkTaps / taps, ChannelTileBufferFloats / (paddedRows * rowFloats));

    /// <summary>Padded input rows the whole output plane reads (per input channel).</summary>
    internal static int ChannelTileRows(int oh, int kh, int strideH, int dilationH) => (oh - 1) * strideH + (kh - 1) * dilationH + 1;

    /// <summary>
    /// Whether <see cref="Conv2DChannelTiles512"/> runs the shape: the AVX-512 GEMM path, one group, output channels in
    /// blocks of <see cref="ChannelTileLanes"/>, output rows a multiple of the tile's 7 (32 lanes) or 14 (16 lanes) pixels, an
    /// output plane of <see cref="ChannelTileMinPlane"/> to <see cref="ChannelTileBufferFloats"/> / 16 pixels, strideW 1 or 2, and at least
    /// one input channel's taps and padded rows within their stack bounds, with chunks of at least
    /// <see cref="ChannelTileMinChunkTaps"/> taps (or all of them).
    /// </summary>
    internal static bool ChannelTilesApply(Isa isa, int c, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int dilationH, int dilationW, int group)
        => isa == Isa.Vector512 && group == 1 && c > 0 && k > 0 && ow > 0
           && (long)oh * ow >= ChannelTileMinPlane && (long)oh * ow * 16 <= ChannelTileBufferFloats && strideW is 1 or 2
           && k % ChannelTileLanes(oh * ow) == 0 && ow % (ChannelTileLanes(oh * ow) == 32 ? ChannelTilePixels : 2 * ChannelTilePixels) == 0
           && (long)kh * kw <= ChannelTileChunkTaps
           && (long)ChannelTileRows(oh, kh, strideH, dilationH) * RowTileRowFloats(ow, kw, strideW, dilationW) <= ChannelTileBufferFloats
           && Math.Min(c, ChannelTileChunk(kh * kw, ChannelTileRows(oh, kh, strideH, dilationH), RowTileRowFloats(ow, kw, strideW, dilationW))) * kh * kw
              >= Math.Min(ChannelTileMinChunkTaps, c * kh * kw);

    /// <summary>
    /// Per image, the input channels go in chunks (<see cref="ChannelTileChunk"/>): the chunk's input planes are copied into
    /// zero-padded stack rows (strideW 2 split into even and odd columns, as for the row tiles), then per block of L = 32
    /// (16 on planes over 392 pixels, <see cref="ChannelTileLanes"/>) output channels the chunk's weights are transposed to
    /// [tap][L] on the stack and every tile of the output plane (32 channels x 7 pixels, or 16 x 14) is summed over the
    /// chunk's taps in 14 zmm registers, starting at the bias (first chunk) or at the tile's partial sums, which wait
    /// between chunks in the block's own part of y laid out [pixel][L].
    /// After the last chunk each block is turned into NCHW through the stack scratch and the activation applied. Per
    /// output: bias, then the products in the reference's (channel, ky, kx) order; only FMA rounding separates it from the
    /// reference, and taps in the padding add w * 0 instead of being skipped (identical for finite weights, as in
    /// <see cref="Conv2DIm2Col"/>). Stack: <see cref="ChannelTileChunkTaps"/> x 32 floats of weights, its tap offsets, and
    /// <see cref="ChannelTileBufferFloats"/> floats of rows (82 KiB). Callers have checked <see cref="ChannelTilesApply"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void Conv2DChannelTiles512(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
        Activation act, float p0, float p1)
    {
        int kk = kh * kw, tapsAll = c * kk, planeIn = h * width, planeOut = oh * ow;
        int phase = RowTilePhase(ow, kw, strideW, dilationW), rowFloats = strideW * phase;
        int rowsPerChannel = ChannelTileRows(oh, kh, strideH, dilationH), channelFloats = rowsPerChannel * rowFloats;
        int chunk = ChannelTileChunk(kk, rowsPerChannel, rowFloats), lanes = ChannelTileLanes(planeOut);
        Span<float> wt = stackalloc float[ChannelTileChunkTaps * 32];
        Span<int> offsets = stackalloc int[ChannelTileChunkTaps];
        Span<float> rows = stackalloc float[ChannelTileBufferFloats];
        ref float rwt = ref MemoryMarshal.GetReference(wt);
        ref int ro = ref MemoryMarshal.GetReference(offsets);
        ref float rr = ref MemoryMarshal.GetReference(rows);
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        // Tap t = (ic, ky, kx) of a chunk reads channel ic's padded row ky * dilationH (plus the output row's) at phase
        // (kx * dilationW) mod strideW, index (kx * dilationW) / strideW (plus the tile's first column).
        for (int t = 0; t < Math.Min(chunk * kk, ChannelTileChunkTaps); t++)
        {
            int ic = t / kk, ky = t % kk / kw, kx = t % kw, reach = kx * dilationW;
            offsets[t] = ic * channelFloats + ky * dilationH * rowFloats + (reach % strideW) * phase + reach / strideW;
        }
        for (int b = 0; b < n; b++)
        {
            ref float yb = ref Unsafe.Add(ref ry, b * k * planeOut);
            for (int ic0 = 0; ic0 < c; ic0 += chunk)
            {
                int chans = Math.Min(chunk, c - ic0), taps = chans * kk;
                for (int ic = 0; ic < chans; ic++)
                    for (int r = 0; r < rowsPerChannel; r++)
                        FillPaddedRow(x, (b * c + ic0 + ic) * planeIn, r - padTop, h, width, padLeft, strideW, phase,
                            rows.Slice(ic * channelFloats + r * rowFloats, rowFloats));
                bool first = ic0 == 0;
                for (int ob = 0; ob < k; ob += lanes)
                {
                    TransposeWeights(ref Unsafe.Add(ref rw, ob * tapsAll + ic0 * kk), tapsAll, lanes, taps, ref rwt);
                    ref float acc = ref Unsafe.Add(ref yb, ob * planeOut);   // the block's partial sums, [pixel][lanes]
                    ref float bo = ref Unsafe.Add(ref rbias, hasBias ? ob : 0);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        ref float rowBase = ref Unsafe.Add(ref rr, oy * strideH * rowFloats);
                        if (lanes == 32)
                            for (int ox = 0; ox < ow; ox += ChannelTilePixels)
                                ChannelTile32x7(ref rwt, taps, ref Unsafe.Add(ref rowBase, ox), ref ro,
                                    ref Unsafe.Add(ref acc, (oy * ow + ox) * 32), first, hasBias, ref bo);
                        else
                            for (int ox = 0; ox < ow; ox += 2 * ChannelTilePixels)
                                ChannelTile16x14(ref rwt, taps, ref Unsafe.Add(ref rowBase, ox), ref ro,
                                    ref Unsafe.Add(ref acc, (oy * ow + ox) * 16), first, hasBias, ref bo);
                    }
                }
            }
            // Each block from [pixel][lanes] to [lanes][pixel] (NCHW) through the scratch (the padded rows are no longer needed).
            Span<float> scratch = rows.Slice(0, planeOut * lanes);
            for (int ob = 0; ob < k; ob += lanes)
            {
                Span<float> block = y.Slice((b * k + ob) * planeOut, planeOut * lanes);
                block.CopyTo(scratch);
                ref float rs = ref MemoryMarshal.GetReference(scratch);
                ref float rblk = ref MemoryMarshal.GetReference(block);
                for (int j = 0; j < lanes; j++)
                {
                    ref float dst = ref Unsafe.Add(ref rblk, j * planeOut);
                    for (int p = 0; p < planeOut; p++) Unsafe.Add(ref dst, p) = Unsafe.Add(ref rs, p * lanes + j);
                }
                if (act != Activation.None) ActivationKernel.ApplyInPlace(act, block, p0, p1, Isa.Vector256);
            }
        }
    }

    /// <summary>
    /// dst[t * lanes + j] = src[j * ld + t] for t in [0, taps), j in [0, lanes) (a multiple of 8): the output channels'
    /// weight rows (contiguous along the taps) into one row per tap, 8x8 blocks transposed in ymm registers, the taps past
    /// the last multiple of 8 one at a time.
    /// </summary>
    private static void TransposeWeights(ref float src, int ld, int lanes, int taps, ref float dst)
    {
        int t8 = taps & ~7;
        for (int j = 0; j < lanes; j += 8)
        {
            ref float s = ref Unsafe.Add(ref src, j * ld);
            for (int t = 0; t < t8; t += 8)
                Transpose8x8(ref Unsafe.Add(ref s, t), ld, ref Unsafe.Add(ref dst, t * lanes + j), lanes);
            for (int t = t8; t < taps; t++)
                for (int r = 0; r < 8; r++)
                    Unsafe.Add(ref dst, t * lanes + j + r) = Unsafe.Add(ref s, r * ld + t);
        }
    }

    /// <summary>dst[c * ldd + r] = src[r * lds + c] for an 8x8 block (AVX unpack and shuffle steps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref float src, int lds, ref float dst, int ldd)
    {
        var r0 = Vector256.LoadUnsafe(ref src);
        var r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, lds));
        var r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 2 * lds));
        var r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 3 * lds));
        var r4 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 4 * lds));
        var r5 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 5 * lds));
        var r6 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 6 * lds));
        var r7 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 7 * lds));
        // Pairs of rows interleaved, then pairs of pairs: each 128-bit lane holds a 4x4 block's column.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00); var u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10);
        var u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00); var u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10);
        var u4 = Avx.Shuffle(t4, t6, 0b01_00_01_00); var u5 = Avx.Shuffle(t4, t6, 0b11_10_11_10);
        var u6 = Avx.Shuffle(t5, t7, 0b01_00_01_00); var u7 = Avx.Shuffle(t5, t7, 0b11_10_11_10);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, ldd));
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * ldd));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * ldd));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * ldd));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * ldd));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * ldd));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * ldd));
    }

    /// <summary>
    /// 32 output channels x 7 consecutive output pixels of one row: tap t's weights at wt + t * 32 (two zmm), its 7 inputs
    /// at row0 + offsets[t] + p (broadcast); the sums start at the bias (or 0) when <paramref name="first"/>, else at the
    /// partial sums at acc + p * 32, and are stored back there.
    /// </summary>
    private static void ChannelTile32x7(ref float wt, int taps, ref float row0, ref int offsets, ref float acc, bool first, bool hasBias, ref float bias0)
    {
        Vector512<float> a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6;
        if (first)
        {
            a0 = hasBias ? Vector512.LoadUnsafe(ref bias0) : Vector512<float>.Zero;
            b0 = hasBias ? Vector512.LoadUnsafe(ref bias0, 16) : Vector512<float>.Zero;
            a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0;
            b1 = b0; b2 = b0; b3 = b0; b4 = b0; b5 = b0; b6 = b0;
        }
        else
        {
            a0 = Vector512.LoadUnsafe(ref acc); b0 = Vector512.LoadUnsafe(ref acc, 16);
            a1 = Vector512.LoadUnsafe(ref acc, 32); b1 = Vector512.LoadUnsafe(ref acc, 48);
            a2 = Vector512.LoadUnsafe(ref acc, 64); b2 = Vector512.LoadUnsafe(ref acc, 80);
            a3 = Vector512.LoadUnsafe(ref acc, 96); b3 = Vector512.LoadUnsafe(ref acc, 112);
            a4 = Vector512.LoadUnsafe(ref acc, 128); b4 = Vector512.LoadUnsafe(ref acc, 144);
            a5 = Vector512.LoadUnsafe(ref acc, 160); b5 = Vector512.LoadUnsafe(ref acc, 176);
            a6 = Vector512.LoadUnsafe(ref acc, 192); b6 = Vector512.LoadUnsafe(ref acc, 208);
        }
        for (int t = 0; t < taps; t++)
        {
            ref float src = ref Unsafe.Add(ref row0, Unsafe.Add(ref offsets, t));
            ref float wr = ref Unsafe.Add(ref wt, t * 32);
            var wa = Vector512.LoadUnsafe(ref wr);
            var wb = Vector512.LoadUnsafe(ref wr, 16);
            var v = Vector512.Create(src);
            a0 = Simd.MulAdd(wa, v, a0); b0 = Simd.MulAdd(wb, v, b0);
            v = Vector512.Create(Unsafe.Add(ref src, 1));
            a1 = Simd.MulAdd(wa, v, a1); b1 = Simd.MulAdd(wb, v, b1);
            v = Vector512.Create(Unsafe.Add(ref src, 2));
            a2 = Simd.MulAdd(wa, v, a2); b2 = Simd.MulAdd(wb, v, b2);
            v = Vector512.Create(Unsafe.Add(ref src, 3));
            a3 = Simd.MulAdd(wa, v, a3); b3 = Simd.MulAdd(wb, v, b3);
            v = Vector512.Create(Unsafe.Add(ref src, 4));
            a4 = Simd.MulAdd(wa, v, a4); b4 = Simd.MulAdd(wb, v, b4);
            v = Vector512.Create(Unsafe.Add(ref src, 5));
            a5 = Simd.MulAdd(wa, v, a5); b5 = Simd.MulAdd(wb, v, b5);
            v = Vector512.Create(Unsafe.Add(ref src, 6));
            a6 = Simd.MulAdd(wa, v, a6); b6 = Simd.MulAdd(wb, v, b6);
        }
        a0.StoreUnsafe(ref acc); b0.StoreUnsafe(ref acc, 16);
        a1.StoreUnsafe(ref acc, 32); b1.StoreUnsafe(ref acc, 48);
        a2.StoreUnsafe(ref acc, 64); b2.StoreUnsafe(ref acc, 80);
        a3.StoreUnsafe(ref acc, 96); b3.StoreUnsafe(ref acc, 112);
        a4.StoreUnsafe(ref acc, 128); b4.StoreUnsafe(ref acc, 144);
        a5.StoreUnsafe(ref acc, 160); b5.StoreUnsafe(ref acc, 176);
        a6.StoreUnsafe(ref acc, 192); b6.StoreUnsafe(ref acc, 208);
    }

    /// <summary>
    /// 16 output channels x 14 consecutive output pixels of one row (planes too large for 32-channel blocks): tap t's weights
    /// at wt + t * 16 (one zmm), its 14 inputs at row0 + offsets[t] + p (broadcast); otherwise as <see cref="ChannelTile32x7"/>.
    /// </summary>
    private static void ChannelTile16x14(ref float wt, int taps, ref float row0, ref int offsets, ref float acc, bool first, bool hasBias, ref float bias0)
    {
        Vector512<float> a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13;
        if (first)
        {
            a0 = hasBias ? Vector512.LoadUnsafe(ref bias0) : Vector512<float>.Zero;
            a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0; a7 = a0; a8 = a0; a9 = a0; a10 = a0; a11 = a0; a12 = a0; a13 = a0;
        }
        else
        {
            a0 = Vector512.LoadUnsafe(ref acc, 0); a1 = Vector512.LoadUnsafe(ref acc, 16);
            a2 = Vector512.LoadUnsafe(ref acc, 32); a3 = Vector512.LoadUnsafe(ref acc, 48);
            a4 = Vector512.LoadUnsafe(ref acc, 64); a5 = Vector512.LoadUnsafe(ref acc, 80);
            a6 = Vector512.LoadUnsafe(ref acc, 96); a7 = Vector512.LoadUnsafe(ref acc, 112);
            a8 = Vector512.LoadUnsafe(ref acc, 128); a9 = Vector512.LoadUnsafe(ref acc, 144);
            a10 = Vector512.LoadUnsafe(ref acc, 160); a11 = Vector512.LoadUnsafe(ref acc, 176);
            a12 = Vector512.LoadUnsafe(ref acc, 192); a13 = Vector512.LoadUnsafe(ref acc, 208);
        }
        for (int t = 0; t < taps; t++)
        {
            ref float src = ref Unsafe.Add(ref row0, Unsafe.Add(ref offsets, t));
            var wa = Vector512.LoadUnsafe(ref wt, (nuint)(t * 16));
            a0 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 0)), a0); a1 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 1)), a1);
            a2 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 2)), a2); a3 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 3)), a3);
            a4 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 4)), a4); a5 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 5)), a5);
            a6 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 6)), a6); a7 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 7)), a7);
            a8 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 8)), a8); a9 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 9)), a9);
            a10 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 10)), a10); a11 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 11)), a11);
            a12 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 12)), a12); a13 = Simd.MulAdd(wa, Vector512.Create(Unsafe.Add(ref src, 13)), a13);
        }
        a0.StoreUnsafe(ref acc, 0); a1.StoreUnsafe(ref acc, 16);
        a2.StoreUnsafe(ref acc, 32); a3.StoreUnsafe(ref acc, 48);
        a4.StoreUnsafe(ref acc, 64); a5.StoreUnsafe(ref acc, 80);
        a6.StoreUnsafe(ref acc, 96); a7.StoreUnsafe(ref acc, 112);
        a8.StoreUnsafe(ref acc, 128); a9.StoreUnsafe(ref acc, 144);
        a10.StoreUnsafe(ref acc, 160); a11.StoreUnsafe(ref acc, 176);
        a12.StoreUnsafe(ref acc, 192); a13.StoreUnsafe(ref acc, 208);
    }
}
