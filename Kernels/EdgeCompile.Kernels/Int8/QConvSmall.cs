using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

// ---------------------------------------------------------------- AVX2: small planes (at most 64 output pixels)
//
// The windowed AVX2 path computes Wp = ow + kw - 1 columns per output row and drops the last kw - 1 of them: on an 8x8 plane
// with a 3x3 kernel that is 80 computed pixels for 64 outputs, and most 8-pixel blocks then straddle two rows, so their
// epilogue stores byte runs instead of one 8-byte store. For planes of at most 64 outputs computed in one tile, this path
// builds the panel for exactly the ohw output pixels instead: each input channel is copied once into a zero-point-padded
// plane of (oh + kh - 1) x (ow + kw - 1) bytes, and each 8-pixel block of an im2col row is one 16-byte load from that plane
// at the tap's offset, shuffled by a per-block mask (the same for every tap: the block's pixels' offsets in the padded plane,
// which span at most 16 bytes) into the 8 pixels' values. The micro-kernels and epilogue are TileChannels', with every
// full 8-pixel block stored with one 8-byte store per channel. Same sums as the other paths: bit-exact.
public static partial class QConv
{
    /// <summary>Largest output plane (pixels) the small-plane path takes: 8 blocks of 8 pixels.</summary>
    internal const int SmallPlaneMaxPixels = 64;

    /// <summary>Largest reduction (c / group * kh * kw) the small-plane path takes: its row-offset table is on the stack (8 KiB).</summary>
    internal const int SmallPlaneMaxK = 2048;

    /// <summary>
    /// True when <see cref="Conv2DAvx2"/> takes the small-plane path for this shape: stride 1 and dilation 1 with a kernel
    /// larger than 1x1, at most <see cref="SmallPlaneMaxPixels"/> outputs computed in one window tile (so the window part of
    /// the scratch holds the padded planes), and every 8-pixel block's offsets in the padded plane within 16 bytes.
    /// </summary>
    internal static bool SmallPlaneFits(in ConvLayout l, int kh, int kw, int oh, int ow, int strideH, int strideW, int dilationH, int dilationW)
    {
        if (!l.Windowed || strideH != 1 || strideW != 1 || dilationH != 1 || dilationW != 1 || oh < 1 || ow < 1) return false;
        int ohw = oh * ow;
        if (ohw > SmallPlaneMaxPixels || l.Rows < oh || l.Kd > SmallPlaneMaxK) return false;
        // Offset of pixel p = oy * ow + ox in the padded plane: oy * Wp + ox (counted, no divisions: this runs per call).
        for (int p = 0, oy = 0, ox = 0, first = 0; p < ohw; p++)
        {
            int o = oy * l.Wp + ox;
            if ((p & 7) == 0) first = o;
            else if (o - first > 15) return false;
            if (++ox == ow) { ox = 0; oy++; }
        }
        return true;
    }

    /// <summary>
    /// One group of one image on the small-plane path: padded planes into the window part of the scratch, the panel for the
    /// ohw output pixels, then <see cref="TileChannels"/>. Stack: the per-block shuffle masks and offsets (160 bytes) and the
    /// row offsets (<see cref="SmallPlaneMaxK"/> ints).
    /// </summary>
    [SkipLocalsInit]
    private static void SmallPlaneAvx2(ReadOnlySpan<byte> xg, int xZero, ReadOnlySpan<sbyte> wg, int bb, in ConvLayout l, Span<int> wide, Span<int> panel,
        Span<byte> window, int cg, int h, int width, int kh, int kw, int oh, int ow, int padTop, int padLeft, int kg, int ch0, int yCh0, bool wideTile,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, Span<byte> y)
    {
        int wp = l.Wp, hp = oh + kh - 1, plane = hp * wp, ohw = oh * ow, npad = (ohw + 15) & ~15, pairs = l.K4 / 2, kd = l.Kd;
        // Padded planes: xZero everywhere, then the input rows that fall inside (rows/columns past the plane are never read).
        window.Slice(0, cg * plane + 16).Fill((byte)xZero);
        int r0 = Math.Max(0, -padTop), r1 = Math.Min(h, hp - padTop), c0 = Math.Max(0, -padLeft), c1 = Math.Min(width, wp - padLeft);
        if (r0 < r1 && c0 < c1)
        {
            ref byte src0 = ref MemoryMarshal.GetReference(xg);
            ref byte dst0 = ref MemoryMarshal.GetReference(window);
            int len = c1 - c0;
            for (int ci = 0; ci < cg; ci++)
                for (int iy = r0; iy < r1; iy++)
                    CopySmallRow(ref Unsafe.Add(ref src0, ci * h * width + iy * width + c0),
                        ref Unsafe.Add(ref dst0, ci * plane + (iy + padTop) * wp + c0 + padLeft), len);
        }
        // Per 8-pixel block: its first pixel's offset and the shuffle gathering its 8 pixels from a 16-byte load (lanes past
        // ohw repeat lane 0: they feed only discarded outputs).
        int blocks = (ohw + 7) / 8;
        Span<byte> masks = stackalloc byte[16 * (SmallPlaneMaxPixels / 8)];
        Span<int> baseOff = stackalloc int[SmallPlaneMaxPixels / 8];
        masks.Clear();
        for (int p = 0, oy = 0, ox = 0; p < ohw; p++)
        {
            int o = oy * wp + ox;
            if ((p & 7) == 0) baseOff[p >> 3] = o;
            else masks[(p >> 3) * 16 + (p & 7)] = (byte)(o - baseOff[p >> 3]);
            if (++ox == ow) { ox = 0; oy++; }
        }
        // Offset of every im2col row's tap in the padded planes; the panel is then written block by block, pair by pair
        // (contiguous 32-byte stores), each pair two loads and shuffles with the block's mask in a register.
        Span<int> rowOff = stackalloc int[SmallPlaneMaxK];
        for (int kk = 0, ci = 0, ky = 0, kx = 0; kk < kd; kk++)
        {
            rowOff[kk] = ci * plane + ky * wp + kx;
            if (++kx == kw) { kx = 0; if (++ky == kh) { ky = 0; ci++; } }
        }
        ref byte win = ref MemoryMarshal.GetReference(window);
        ref byte m0 = ref MemoryMarshal.GetReference(masks);
        ref int off0 = ref MemoryMarshal.GetReference(rowOff);
        var zv = Vector256.Create((short)xZero);
        var zb = Vector128.Create((byte)xZero);
        int full = kd / 2;   // pairs with both rows inside kd; the rest (at most 2) hold padded k: the zero point
        for (int bi = 0; bi < blocks; bi++)
        {
            var mask = Vector128.LoadUnsafe(ref m0, (nuint)(bi * 16));
            ref byte src = ref Unsafe.Add(ref win, baseOff[bi]);
            ref int dst = ref Unsafe.Add(ref MemoryMarshal.GetReference(panel), bi * 8 * pairs);
            int j = 0;
            for (; j < full; j++)
            {
                var va = Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)Unsafe.Add(ref off0, 2 * j)), mask);
                var vb = Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)Unsafe.Add(ref off0, 2 * j + 1)), mask);
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, vb)), zv).AsInt32().StoreUnsafe(ref dst, (nuint)(j * 8));
            }
            for (; j < pairs; j++)
            {
                var va = 2 * j < kd ? Ssse3.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)Unsafe.Add(ref off0, 2 * j)), mask) : zb;
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, zb)), zv).AsInt32().StoreUnsafe(ref dst, (nuint)(j * 8));
            }
        }
        SmallChannels(wg, bb, l.K4, pairs, wide, panel, kg, ch0, yCh0, ohw, npad, wideTile, bias, multiplier, shift, yZero, qmin, qmax, y);
    }

    /// <summary>
    /// All output channels of a small plane: per 8-channel block, widen its weights and run the micro-kernels over every
    /// 8-pixel block of the plane first (accumulators for the whole plane: at most 8 blocks x 8 channels x 8 lanes), then
    /// the epilogue channel by channel, so each channel's requantization constants stay in registers across its blocks and
    /// its plane is written with consecutive 8-byte stores (a ragged last block through a 16-byte staging buffer).
    /// Stack: 2 KiB of accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void SmallChannels(ReadOnlySpan<sbyte> wg, int bb, int k4, int pairs, Span<int> wide, Span<int> panel, int kg, int ch0, int yCh0,
        int ohw, int npad, bool wideTile, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        Span<byte> y)
    {
        Span<int> acc = stackalloc int[SmallPlaneMaxPixels * QGemm.BlockN];
        Span<byte> tail = stackalloc byte[16];
        ref int acc0 = ref MemoryMarshal.GetReference(acc);
        ref int panel0 = ref MemoryMarshal.GetReference(panel);
        ref int wide0 = ref MemoryMarshal.GetReference(wide);
        int full = ohw / 8, rest = ohw - 8 * full;
        for (int n0 = 0; n0 < kg; n0 += QGemm.BlockN)
        {
            WidenBlock(wg.Slice(n0 / QGemm.BlockN * bb, bb), k4, wide);
            // acc[block * 64 + channel * 8 + lane], three blocks per call where the panel (npad pixels) has them.
            for (int q0 = 0; q0 < ohw;)
            {
                if (wideTile && q0 + 24 <= npad)
                {
                    MicroKernel8x3(ref Unsafe.Add(ref panel0, q0 * pairs), 8 * pairs, ref wide0, pairs, ref Unsafe.Add(ref acc0, q0 * QGemm.BlockN));
                    q0 += 24;
                }
                else
                {
                    MicroKernel8(ref Unsafe.Add(ref panel0, q0 * pairs), ref wide0, pairs, ref Unsafe.Add(ref acc0, q0 * QGemm.BlockN));
                    q0 += 8;
                }
            }
            int nc = Math.Min(QGemm.BlockN, kg - n0);
            for (int cc = 0; cc < nc; cc++)
            {
                int ch = ch0 + n0 + cc, pi = multiplier.Length == 1 ? 0 : ch, b = bias.IsEmpty ? 0 : bias[ch];
                // |acc| <= |bias| + k4 * 255 * 127 (the padded reduction's padding contributes 0).
                var rq = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax, Math.Abs((long)b) + (long)k4 * MaxTap);
                var bv = Vector256.Create(b);
                var plane = y.Slice((yCh0 + n0 + cc) * ohw, ohw);   // bounds: the stores below stay inside the channel's plane
                ref byte p0 = ref MemoryMarshal.GetReference(plane);
                ref int a = ref Unsafe.Add(ref acc0, cc * 8);
                for (int bi = 0; bi < full; bi++)
                    Requantization.StoreBytesAvx2(rq.Apply(Avx2.Add(Vector256.LoadUnsafe(ref a, (nuint)(bi * 64)), bv)), ref Unsafe.Add(ref p0, bi * 8));
                if (rest > 0)
                {
                    Requantization.StoreBytesAvx2(rq.Apply(Avx2.Add(Vector256.LoadUnsafe(ref a, (nuint)(full * 64)), bv)), ref MemoryMarshal.GetReference(tail));
                    tail.Slice(0, rest).CopyTo(plane.Slice(8 * full));
                }
            }
        }
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
