using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

// ---------------------------------------------------------------- AVX2: exact-pixel tiles (maps whose window fits 256 KiB)
//
// The row-tiled windowed path computes Wp = ow + (kw - 1) dw / sw columns per output row and drops the extra ones, and tiles
// of whole rows round up to 16 pixels: on a 7x7 map with a 3x3 kernel that is 80 computed pixels for 49 outputs, and
// most 8-pixel blocks straddle two rows, so their epilogue stores byte runs. When the window of the whole map fits
// ExactMaxWindow, this path copies the input once per call into that window (per channel sh x sw phase planes of
// (oh + (kh - 1) dh / sh) x Wp bytes padded with the zero point) and builds the panel for exactly the output pixels of each
// tile: each 8-pixel block of an im2col row is one 16-byte load from the window at the row's tap offset, shuffled by a
// per-block mask (the same for every tap: the block's pixels' offsets in a phase plane, which must span at most 16 bytes)
// into the 8 pixels' values. Per 8-channel block the micro-kernels run over the tile's blocks (three at a time where the
// JIT has 32 registers), a ragged last block of at most 4 pixels through MicroKernelTail (channels in the lanes), then the
// epilogue channel by channel (constants in registers, consecutive 8-byte stores). Same sums as the other paths: bit-exact.
public static partial class QConv
{
    /// <summary>Largest window of the whole map (bytes) the exact-pixel path copies (ResNet-18: 41-115 KiB on its 7x7 to
    /// 28x28 maps, 215 KiB at 56x56).</summary>
    internal const int ExactMaxWindow = 256 * 1024;

    /// <summary>Largest tile (pixels) of the exact-pixel path, not counting a merged remainder of up to 7: the accumulators of
    /// a tile are on the stack (<see cref="ExactMaxTile"/> + 8 pixels x 8 channels x 4 bytes = 6.25 KiB).</summary>
    internal const int ExactMaxTile = 192;

    /// <summary>
    /// Tiles of the exact-pixel path hold at most about this many pixels x k-pairs in the panel (4 bytes each: 1 MiB, so
    /// ResNet-18's 7x7 and 14x14 maps are one tile: 49 pixels x 2304 pairs, 196 x 1152). Measured on those layers, whole-map
    /// tiles beat tiles of 24 pixels with the panel in L1/L2 (14x14: 1.39-1.41 against 1.55-1.68 ms; 7x7: 1.52-1.58 against
    /// 1.60-1.64 ms): each tile widens every 8-channel weight block again and streams the weights from L3 again.
    /// </summary>
    internal const int ExactPanelPairs = 256 * 1024;

    /// <summary>Largest ragged last block (pixels) run by <see cref="MicroKernelTail"/> rather than a whole 8-pixel block.</summary>
    internal const int TailMaxLanes = 4;

    /// <summary>
    /// True when <see cref="Conv2DAvx2"/> takes the exact-pixel path for this shape: a kernel larger than 1x1, the whole map's
    /// window (<paramref name="window"/> bytes, including 32 bytes of slack for the 16-byte loads) at most
    /// <see cref="ExactMaxWindow"/>, and every 8-pixel block's offsets in a phase plane within 16 bytes.
    /// </summary>
    internal static bool ExactFits(int cg, int kh, int kw, int oh, int ow, int strideH, int strideW, int dilationH, int dilationW, out long window)
    {
        window = 0;
        if (kh * kw <= 1 || oh < 1 || ow < 1) return false;
        int wq = ow + (kw - 1) * dilationW / strideW, planeRows = oh + (kh - 1) * dilationH / strideH;
        window = (long)cg * strideH * strideW * planeRows * wq + 32;
        if (window > ExactMaxWindow) return false;
        // Offset of pixel p = oy * ow + ox in a phase plane: oy * wq + ox. Rows of 8 or more: a block crosses at most one row
        // end, spanning at most 7 + wq - ow bytes. Otherwise: blocks start at multiples of 8, so their patterns repeat after
        // 8 * ow pixels: counting that many (no divisions) covers every block.
        if (ow >= 8 && wq - ow <= 8) return true;
        int ohw = oh * ow, end = (int)Math.Min(ohw, 8L * ow + 8);
        for (int p = 0, oy = 0, ox = 0, first = 0; p < end; p++)
        {
            int o = oy * wq + ox;
            if ((p & 7) == 0) first = o;
            else if (o - first > 15) return false;
            if (++ox == ow) { ox = 0; oy++; }
        }
        return true;
    }

    /// <summary>Pixels per tile of the exact-pixel path: the whole map when it is at most a tile plus 7 pixels, else
    /// multiples of 24 (three 8-pixel blocks) with about <see cref="ExactPanelPairs"/> pixels x pairs in the panel, 24 to
    /// <see cref="ExactMaxTile"/> (tiles of 192 to 384 pixels measured the same on the 28x28 and 56x56 layers).</summary>
    internal static int ExactTile(int ohw, int k4)
    {
        int tile = Math.Clamp(2 * ExactPanelPairs / k4 / 24 * 24, 24, ExactMaxTile);
        return ohw <= tile + 7 ? ohw : tile;
    }

    /// <summary>
    /// One group of one image on the exact-pixel path: the window of the whole map, the im2col row offsets, then per tile
    /// the panel of its pixels and <see cref="ExactChannels"/>. <paramref name="rest"/>: the scratch after the panel (window,
    /// then 4 * kd bytes of row offsets). Stack: the per-block shuffle masks and offsets (&lt; 0.5 KiB).
    /// </summary>
    [SkipLocalsInit]
    private static void ExactAvx2(ReadOnlySpan<byte> xg, int xZero, ReadOnlySpan<sbyte> wg, int bb, in ConvLayout l, Span<int> wide, Span<int> panel,
        Span<byte> rest, int cg, int h, int width, int kh, int kw, int oh, int ow, int sh, int sw, int padTop, int padLeft, int dh, int dw,
        int kg, int ch0, int yCh0, bool wideTile, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        Span<byte> y)
    {
        int wq = l.Wp, planeRows = l.WindowRows, plane = planeRows * wq, ohw = oh * ow, pairs = l.K4 / 2, kd = l.Kd;
        var window = rest.Slice(0, (int)l.WindowBytes);
        var rowOff = MemoryMarshal.Cast<byte, int>(rest.Slice((int)l.WindowBytes, 4 * kd));
        if (sh == 1 && sw == 1)
        {
            // One padded plane per channel: xZero everywhere, then the input rows that fall inside (rows/columns past the
            // plane are never read).
            window.Fill((byte)xZero);
            int r0 = Math.Max(0, -padTop), r1 = Math.Min(h, planeRows - padTop), c0 = Math.Max(0, -padLeft), c1 = Math.Min(width, wq - padLeft);
            if (r0 < r1 && c0 < c1)
            {
                ref byte src0 = ref MemoryMarshal.GetReference(xg);
                ref byte dst0 = ref MemoryMarshal.GetReference(window);
                int len = c1 - c0;
                for (int ci = 0; ci < cg; ci++)
                    for (int iy = r0; iy < r1; iy++)
                        CopySmallRow(ref Unsafe.Add(ref src0, ci * h * width + iy * width + c0),
                            ref Unsafe.Add(ref dst0, ci * plane + (iy + padTop) * wq + c0 + padLeft), len);
            }
        }
        else FillWindow(xg, xZero, window, cg, h, width, wq, planeRows, -padTop, padLeft, sh, sw);
        // Offset of every im2col row's tap in the window: the first channel's taps, then whole channels apart.
        int taps = kh * kw, chanStride = sh * sw * plane;
        for (int ky = 0, t = 0; ky < kh; ky++)
        {
            int dy = ky * dh, rowPart = sh == 1 ? dy * wq : (dy % sh) * sw * plane + dy / sh * wq;
            for (int kx = 0; kx < kw; kx++, t++)
                rowOff[t] = rowPart + (sw == 1 ? kx * dw : (kx * dw % sw) * plane + kx * dw / sw);
        }
        for (int kk = taps; kk < kd; kk++) rowOff[kk] = rowOff[kk - taps] + chanStride;
        // Per 8-pixel block of a tile: its first pixel's offset and the shuffle gathering its 8 pixels from a 16-byte load
        // (lanes past the tile repeat lane 0: they feed only discarded outputs).
        const int maxBlocks = ExactMaxTile / 8 + 1;
        Span<byte> masks = stackalloc byte[16 * maxBlocks];
        Span<int> baseOff = stackalloc int[maxBlocks];
        ref byte win = ref MemoryMarshal.GetReference(window);
        ref byte m0 = ref MemoryMarshal.GetReference(masks);
        ref int off0 = ref MemoryMarshal.GetReference(rowOff);
        for (int p0 = 0, np; p0 < ohw; p0 += np)
        {
            np = ohw - p0 < l.Tile + 8 ? ohw - p0 : l.Tile;
            int blocks = (np + 7) / 8;
            masks.Slice(0, 16 * blocks).Clear();
            for (int p = 0, oy = p0 / ow, ox = p0 - oy * ow; p < np; p++)
            {
                int o = oy * wq + ox;
                if ((p & 7) == 0) baseOff[p >> 3] = o;
                else masks[(p >> 3) * 16 + (p & 7)] = (byte)(o - baseOff[p >> 3]);
                if (++ox == ow) { ox = 0; oy++; }
            }
            GatherPanel(ref win, ref m0, ref MemoryMarshal.GetReference(baseOff), blocks, ref off0, kd, pairs, xZero, panel);
            ExactChannels(wg, bb, l.K4, pairs, wide, panel, kg, ch0, yCh0, ohw, p0, np, wideTile, bias, multiplier, shift, yZero, qmin, qmax, y);
        }
    }

    /// <summary>
    /// The panel of one tile, block by block and pair by pair (contiguous 32-byte stores): each pair two 16-byte loads from
    /// the window at the rows' offsets, shuffled with the block's mask, interleaved, widened and less the zero point. A
    /// separate method so the loop keeps its state in registers (inlined into <see cref="ExactAvx2"/>, the JIT spilled the
    /// row-offset base, the zero point and the bound).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GatherPanel(ref byte win, ref byte masks, ref int baseOff, int blocks, ref int rowOff, int kd, int pairs, int xZero, Span<int> panel)
    {
        var zv = Vector256.Create((short)xZero);
        var zb = Vector128.Create((byte)xZero);
        int full = kd / 2;   // pairs with both rows inside kd; the rest (at most 2) hold padded k: the zero point
        ref int panel0 = ref MemoryMarshal.GetReference(panel);
        for (int bi = 0; bi < blocks; bi++)
        {
            var mask = Vector128.LoadUnsafe(ref masks, (nuint)(bi * 16));
            ref byte src = ref Unsafe.Add(ref win, Unsafe.Add(ref baseOff, bi));
            ref int dst = ref Unsafe.Add(ref panel0, bi * 8 * pairs);
            ref int off = ref rowOff;
            int j = 0;
            for (; j < full; j++)
            {
                var va = Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)off), mask);
                var vb = Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)Unsafe.Add(ref off, 1)), mask);
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, vb)), zv).AsInt32().StoreUnsafe(ref dst);
                off = ref Unsafe.Add(ref off, 2);
                dst = ref Unsafe.Add(ref dst, 8);
            }
            for (; j < pairs; j++)
            {
                var va = 2 * j < kd ? Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)off), mask) : zb;
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, zb)), zv).AsInt32().StoreUnsafe(ref dst);
                off = ref Unsafe.Add(ref off, 2);
                dst = ref Unsafe.Add(ref dst, 8);
            }
        }
    }

    /// <summary>
    /// All output channels of one exact-pixel tile (pixels [p0, p0 + np) of each channel's plane): per 8-channel block, widen
    /// its weights and run the micro-kernels over every 8-pixel block of the tile first (three blocks per call where the
    /// JIT has 32 registers; a ragged last block of at most <see cref="TailMaxLanes"/> pixels through
    /// <see cref="MicroKernelTail"/>), then the epilogue channel by channel, so each channel's requantization constants stay
    /// in registers across its blocks and its plane is written with consecutive 8-byte stores (a ragged last block through
    /// a 16-byte staging buffer). Stack: the tile's accumulators (<see cref="ExactMaxTile"/> / 8 + 1 blocks x 256 bytes).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void ExactChannels(ReadOnlySpan<sbyte> wg, int bb, int k4, int pairs, Span<int> wide, Span<int> panel, int kg, int ch0, int yCh0,
        int ohw, int p0, int np, bool wideTile, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        Span<byte> y)
    {
        Span<int> acc = stackalloc int[(ExactMaxTile / 8 + 1) * 64];
        Span<byte> tail = stackalloc byte[16];
        ref int acc0 = ref MemoryMarshal.GetReference(acc);
        ref int panel0 = ref MemoryMarshal.GetReference(panel);
        ref int wide0 = ref MemoryMarshal.GetReference(wide);
        int fullBlocks = np / 8, rest = np - 8 * fullBlocks;
        // Blocks through the 8-pixel kernels: the full ones, and a ragged last one too wide for the tail kernel.
        int kernelBlocks = rest > TailMaxLanes ? fullBlocks + 1 : fullBlocks;
        for (int n0 = 0; n0 < kg; n0 += QGemm.BlockN)
        {
            WidenBlock(wg.Slice(n0 / QGemm.BlockN * bb, bb), k4, wide);
            // acc[block * 64 + channel * 8 + lane].
            int bi = 0;
            if (wideTile)
                for (; bi + 3 <= kernelBlocks; bi += 3)
                    MicroKernel8x3(ref Unsafe.Add(ref panel0, bi * 8 * pairs), 8 * pairs, ref wide0, pairs, ref Unsafe.Add(ref acc0, bi * 64));
            for (; bi < kernelBlocks; bi++)
                MicroKernel8(ref Unsafe.Add(ref panel0, bi * 8 * pairs), ref wide0, pairs, ref Unsafe.Add(ref acc0, bi * 64));
            if (kernelBlocks == fullBlocks && rest > 0)
                MicroKernelTail(ref Unsafe.Add(ref panel0, fullBlocks * 8 * pairs), ref wide0, pairs, rest, ref Unsafe.Add(ref acc0, fullBlocks * 64));
            int nc = Math.Min(QGemm.BlockN, kg - n0);
            for (int cc = 0; cc < nc; cc++)
            {
                int ch = ch0 + n0 + cc, pi = multiplier.Length == 1 ? 0 : ch, b = bias.IsEmpty ? 0 : bias[ch];
                // |acc| <= |bias| + k4 * 255 * 127 (the padded reduction's padding contributes 0).
                var rq = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax, Math.Abs((long)b) + (long)k4 * MaxTap);
                var bv = Vector256.Create(b);
                var plane = y.Slice((yCh0 + n0 + cc) * ohw + p0, np);   // bounds: the stores below stay inside the tile's pixels
                ref byte pl0 = ref MemoryMarshal.GetReference(plane);
                ref int a = ref Unsafe.Add(ref acc0, cc * 8);
                for (int bk = 0; bk < fullBlocks; bk++)
                    Requantization.StoreBytesAvx2(rq.Apply(Avx2.Add(Vector256.LoadUnsafe(ref a, (nuint)(bk * 64)), bv)), ref Unsafe.Add(ref pl0, bk * 8));
                if (rest > 0)
                {
                    Requantization.StoreBytesAvx2(rq.Apply(Avx2.Add(Vector256.LoadUnsafe(ref a, (nuint)(fullBlocks * 64)), bv)), ref MemoryMarshal.GetReference(tail));
                    tail.Slice(0, rest).CopyTo(plane.Slice(8 * fullBlocks));
                }
            }
        }
    }

    /// <summary>
    /// The first <paramref name="lanes"/> (1 to <see cref="TailMaxLanes"/>) pixels of one 8-pixel panel block x 8 channels,
    /// summed over all k-pairs, into acc[c * 8 + lane] (other lanes untouched). Channels are in the vector lanes: per k-pair one
    /// load of the 8 channels' weight pairs and, per pixel, one broadcast of its pair and one vpmaddwd (a whole block would
    /// take 8). One pixel (a 7x7 map's 49th) runs a one-accumulator loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    internal static void MicroKernelTail(ref int panel, ref int wide, int pairs, int lanes, ref int acc)
    {
        Span<int> t = stackalloc int[TailMaxLanes * 8];
        ref int t0 = ref MemoryMarshal.GetReference(t);
        if (lanes == 1)
        {
            Vector256<int> a = default, b = default;
            int j = 0;
            for (; j + 2 <= pairs; j += 2)
            {
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Vector256.Create(panel).AsInt16(), Vector256.LoadUnsafe(ref wide).AsInt16()));
                b = Avx2.Add(b, Avx2.MultiplyAddAdjacent(Vector256.Create(Unsafe.Add(ref panel, 8)).AsInt16(), Vector256.LoadUnsafe(ref wide, QGemm.BlockN).AsInt16()));
                panel = ref Unsafe.Add(ref panel, 16);
                wide = ref Unsafe.Add(ref wide, 2 * QGemm.BlockN);
            }
            if (j < pairs) a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Vector256.Create(panel).AsInt16(), Vector256.LoadUnsafe(ref wide).AsInt16()));
            Avx2.Add(a, b).StoreUnsafe(ref t0);
        }
        else
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < pairs; j++)
            {
                var w = Vector256.LoadUnsafe(ref wide).AsInt16();
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Vector256.Create(panel).AsInt16(), w));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Vector256.Create(Unsafe.Add(ref panel, 1)).AsInt16(), w));
                a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(Vector256.Create(Unsafe.Add(ref panel, 2)).AsInt16(), w));
                a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(Vector256.Create(Unsafe.Add(ref panel, 3)).AsInt16(), w));
                panel = ref Unsafe.Add(ref panel, 8);
                wide = ref Unsafe.Add(ref wide, QGemm.BlockN);
            }
            a0.StoreUnsafe(ref t0); a1.StoreUnsafe(ref t0, 8); a2.StoreUnsafe(ref t0, 16); a3.StoreUnsafe(ref t0, 24);
        }
        // t[lane * 8 + c] -> acc[c * 8 + lane].
        for (int l = 0; l < lanes; l++)
            for (int c = 0; c < QGemm.BlockN; c++) Unsafe.Add(ref acc, c * 8 + l) = Unsafe.Add(ref t0, l * 8 + c);
    }

    /// <summary>Copies <paramref name="len"/> bytes (short rows): 8-byte steps, the last one overlapping; below 8 bytes, per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmallRow(ref byte src, ref byte dst, int len)
    {
        if (len >= 8)
        {
            int i = 0;
            for (; i + 8 <= len; i += 8) Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i)));
            if (i < len) Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, len - 8), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, len - 8)));
        }
        else
            for (int i = 0; i < len; i++) Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i);
    }
}
