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

    /// <summary>
    /// True when <see cref="Conv2DAvx2"/> takes the small-plane path for this shape: stride 1 and dilation 1 with a kernel
    /// larger than 1x1, at most <see cref="SmallPlaneMaxPixels"/> outputs computed in one window tile (so the window part of
    /// the scratch holds the padded planes), and every 8-pixel block's offsets in the padded plane within 16 bytes.
    /// </summary>
    internal static bool SmallPlaneFits(in ConvLayout l, int kh, int kw, int oh, int ow, int strideH, int strideW, int dilationH, int dilationW)
    {
        if (!l.Windowed || strideH != 1 || strideW != 1 || dilationH != 1 || dilationW != 1 || oh < 1 || ow < 1) return false;
        int ohw = oh * ow;
        if (ohw > SmallPlaneMaxPixels || l.Rows < oh || kh * kw > MaxTapTable) return false;
        // Offsets of pixel p in the padded plane: (p / ow) * Wp + p % ow; a block of 8 spans at most ceil(8 / ow) rows.
        int wp = l.Wp;
        for (int p0 = 0; p0 < ohw; p0 += 8)
        {
            int last = Math.Min(p0 + 7, ohw - 1);
            if (Offset(last, ow, wp) - Offset(p0, ow, wp) > 15) return false;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Offset(int p, int ow, int wp) => p / ow * wp + p % ow;

    /// <summary>
    /// One group of one image on the small-plane path: padded planes into the window part of the scratch, the panel for the
    /// ohw output pixels, then <see cref="TileChannels"/>. Stack: the per-block shuffle masks (128 bytes) and the tap offsets
    /// (1 KiB).
    /// </summary>
    [SkipLocalsInit]
    private static void SmallPlaneAvx2(ReadOnlySpan<byte> xg, int xZero, ReadOnlySpan<sbyte> wg, int bb, in ConvLayout l, Span<int> wide, Span<int> panel,
        Span<byte> window, int cg, int h, int width, int kh, int kw, int oh, int ow, int padTop, int padLeft, int kg, int ch0, int yCh0, bool wideTile,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, Span<byte> y)
    {
        int wp = l.Wp, hp = oh + kh - 1, plane = hp * wp, ohw = oh * ow, npad = (ohw + 15) & ~15, pairs = l.K4 / 2, kd = l.Kd, taps = kh * kw;
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
        for (int bi = 0; bi < blocks; bi++)
        {
            int p0 = bi * 8, o0 = Offset(p0, ow, wp);
            baseOff[bi] = o0;
            for (int i = 1; i < 8 && p0 + i < ohw; i++) masks[bi * 16 + i] = (byte)(Offset(p0 + i, ow, wp) - o0);
        }
        Span<int> tapOff = stackalloc int[MaxTapTable];
        for (int t = 0; t < taps; t++) tapOff[t] = t / kw * wp + t % kw;
        ref byte win = ref MemoryMarshal.GetReference(window);
        ref byte m0 = ref MemoryMarshal.GetReference(masks);
        ref int pan = ref MemoryMarshal.GetReference(panel);
        var zv = Vector256.Create((short)xZero);
        var zb = Vector128.Create((byte)xZero);
        int ci0 = 0, tap = 0;
        for (int j = 0; j < pairs; j++)
        {
            // im2col rows 2j and 2j + 1: offsets of their taps' planes (-1: padded k, the zero point).
            int offA = -1, offB = -1;
            if (2 * j < kd) { offA = ci0 * plane + tapOff[tap]; if (++tap == taps) { tap = 0; ci0++; } }
            if (2 * j + 1 < kd) { offB = ci0 * plane + tapOff[tap]; if (++tap == taps) { tap = 0; ci0++; } }
            for (int bi = 0; bi < blocks; bi++)
            {
                var mask = Vector128.LoadUnsafe(ref m0, (nuint)(bi * 16));
                var va = offA >= 0 ? Ssse3.Shuffle(Vector128.LoadUnsafe(ref win, (nuint)(offA + baseOff[bi])), mask) : zb;
                var vb = offB >= 0 ? Ssse3.Shuffle(Vector128.LoadUnsafe(ref win, (nuint)(offB + baseOff[bi])), mask) : zb;
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, vb)), zv).AsInt32().StoreUnsafe(ref pan, (nuint)(bi * 8 * pairs + j * 8));
            }
        }
        TileChannels(wg, bb, l.K4, pairs, wide, panel, kg, ch0, yCh0, ohw, 0, ohw, npad, wideTile, false, 0, 0, ow,
            bias, multiplier, shift, yZero, qmin, qmax, y);
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
