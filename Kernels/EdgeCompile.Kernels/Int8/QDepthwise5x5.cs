using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

// ---------------------------------------------------------------- depthwise 5x5
//
// The 5x5 counterpart of DepthwiseConv3x3 (MobileNetV3/EfficientNet-style layers). Same contract: group = c = k, stride 1
// or 2 in both directions, dilation 1, weights w[c, 1, 5, 5] in ONNX layout (no packing), edge-rne64 requantization.
//
// AVX2: banded zero-point-padded int16 plane (stack, PlaneBytes values): per channel, bands of output rows whose input
// rows (plus the 4 halo rows) fit the buffer are copied in widened to int16, so no output needs a bounds check, and the
// zero point is folded into the bias (sum x w + bias - z sum w, exact in int32: 25 taps of |x w| <= 255 * 127). Every
// tap pair is a plain 16-value int16 load into vpmaddwd with a weight pair:
//   stride 1, over the flattened band (q = r * Wp + ox; the Wp - ow columns per row that are not outputs are computed and
//   dropped), 16 outputs per step as 8 even and 8 odd ones: loads at q, q + 2, q + 4 per kernel row hold the pairs
//   (x[q + 2j + 2i], x[q + 2j + 2i + 1]); even outputs q + 2j take (w0, w1), (w2, w3), (w4, 0), odd outputs q + 2j + 1
//   take (0, w0), (w1, w2), (w3, w4). 15 loads and 30 vpmaddwd per 16 outputs.
//   stride 2, per output row: the loads at 2 ox, 2 ox + 2, 2 ox + 4 hold output (ox + j)'s pairs (w0, w1), (w2, w3), (w4, 0).
// ARM64 (AdvSimd, with or without Dp): 8 outputs per step over rows whose 5x5 window is inside the input, widened to
// int16 and accumulated with smlal/smlal2 per tap; the border outputs use the scalar reference.
// Scalar (and DOTNET_EnableAVX2=0): the reference, per output.
public static partial class QConv
{
    /// <summary>
    /// Depthwise 5x5 convolution (group = c = k), stride 1 or 2 in both directions, dilation 1; weights w[c, 1, 5, 5] in ONNX
    /// layout (s8 in [-127, 127], no packing); bottom/right padding implied by oh/ow. Same arguments as
    /// <see cref="DepthwiseConv3x3"/>.
    /// </summary>
    public static void DepthwiseConv5x5(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        ValidateDepthwise("QConv.DepthwiseConv5x5", 5, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
        Depthwise5x5Core(QPaths.Best, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
    }

    internal static void Depthwise5x5Core(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        if (oh == 0 || ow == 0) return;
        if (isa == QIsa.Avx2 && Depthwise5x5Band(width, ow, stride, padLeft, out int wp, out int band))
        {
            Depthwise5x5Avx2(x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, wp, band, multiplier, shift, yZero, qmin, qmax);
            return;
        }
        // Input bytes an 8-output ARM step reads past its first tap.
        int need = stride == 1 ? 12 : 20;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                var xp = x.Slice((b * c + ch) * h * width, h * width);
                var yp = y.Slice((b * c + ch) * oh * ow, oh * ow);
                var wc = w.Slice(ch * 25, 25);
                int bs = bias.IsEmpty ? 0 : bias[ch], pi = multiplier.Length == 1 ? 0 : ch;
                int mul = multiplier[pi], sh = shift[pi];
                int oxFirst = (padLeft + stride - 1) / stride;                 // first ox whose window starts inside the row
                for (int oy = 0; oy < oh; oy++)
                {
                    int iy0 = oy * stride - padTop, ox = 0;
                    if (isa == QIsa.AdvSimd && iy0 >= 0 && iy0 + 4 < h)
                    {
                        for (; ox < Math.Min(oxFirst, ow); ox++) yp[oy * ow + ox] = Pixel(xp, wc, 5, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                        for (; ox + 8 <= ow && ox * stride - padLeft + need <= width; ox += 8)
                            Depthwise5x5StepArm(xp, wc, xZero, bs, width, iy0, ox * stride - padLeft, stride, mul, sh, yZero, qmin, qmax, yp.Slice(oy * ow + ox, 8));
                    }
                    for (; ox < ow; ox++) yp[oy * ow + ox] = Pixel(xp, wc, 5, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                }
            }
    }

    private static void Depthwise5x5StepArm(ReadOnlySpan<byte> xp, ReadOnlySpan<sbyte> wc, int xZero, int bias, int width, int iy0, int ix0, int stride,
        int mul, int sh, int yZero, int qmin, int qmax, Span<byte> dst)
    {
        ref byte x0 = ref MemoryMarshal.GetReference(xp);
        var xz = Vector128.Create((short)xZero);
        var lo = Vector128.Create(bias); var hi = lo;
        for (int ky = 0; ky < 5; ky++)
        {
            ref byte row = ref Unsafe.Add(ref x0, (iy0 + ky) * width + ix0);
            int wr = ky * 5;
            if (stride == 1)
            {
                for (int kx = 0; kx < 5; kx++) Tap5(ref lo, ref hi, Vector64.LoadUnsafe(ref row, (nuint)kx), xz, wc[wr + kx]);
            }
            else
            {
                // Output j takes row[2j + kx]: the even/odd bytes of the loads at 0, 2 and 4.
                var v0 = Vector128.LoadUnsafe(ref row); var v2 = Vector128.LoadUnsafe(ref row, 2); var v4 = Vector128.LoadUnsafe(ref row, 4);
                Tap5(ref lo, ref hi, AdvSimd.Arm64.UnzipEven(v0, v0).GetLower(), xz, wc[wr]);
                Tap5(ref lo, ref hi, AdvSimd.Arm64.UnzipOdd(v0, v0).GetLower(), xz, wc[wr + 1]);
                Tap5(ref lo, ref hi, AdvSimd.Arm64.UnzipEven(v2, v2).GetLower(), xz, wc[wr + 2]);
                Tap5(ref lo, ref hi, AdvSimd.Arm64.UnzipOdd(v2, v2).GetLower(), xz, wc[wr + 3]);
                Tap5(ref lo, ref hi, AdvSimd.Arm64.UnzipEven(v4, v4).GetLower(), xz, wc[wr + 4]);
            }
        }
        var m = Vector128.Create(mul); var s = Vector128.Create(sh);
        Requantization.StoreBytesArm(Requantization.RequantizeArm(lo, m, s, yZero, qmin, qmax), Requantization.RequantizeArm(hi, m, s, yZero, qmin, qmax),
            ref MemoryMarshal.GetReference(dst));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Tap5(ref Vector128<int> lo, ref Vector128<int> hi, Vector64<byte> t, Vector128<short> xz, sbyte wv)
        {
            var v = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(t).AsInt16(), xz);
            var wq = Vector128.Create((short)wv);
            lo = AdvSimd.MultiplyWideningLowerAndAdd(lo, v.GetLower(), wq.GetLower());
            hi = AdvSimd.MultiplyWideningUpperAndAdd(hi, v, wq);
        }
    }

    /// <summary>
    /// The AVX2 band geometry: row pitch <paramref name="wp"/> of the padded plane and output rows per band. False when not
    /// even one output row's 5 input rows fit <see cref="PlaneBytes"/> (rows wider than about 3,200 values).
    /// </summary>
    internal static bool Depthwise5x5Band(int width, int ow, int stride, int padLeft, out int wp, out int band)
    {
        // Stride 1 computes whole flattened rows (reads 20 values past a row's last output); stride 2 reads 2 ox + 4 + 16.
        wp = Math.Max(width + padLeft, (ow - 1) * stride + 5);
        if (stride == 2) wp = Math.Max(wp, 2 * ((ow + 15) & ~15) + 4);
        int outPitch = stride == 1 ? wp : (ow + 15) & ~15;
        long rowsIn = (PlaneBytes - 96) / wp;                                   // input rows that fit
        long byIn = stride == 1 ? rowsIn - 4 : (rowsIn - 3) / 2;                // output rows they feed
        long byOut = (PlaneBytes - 16) / outPitch;
        band = (int)Math.Min(byIn, byOut);
        return band >= 1;
    }

    [SkipLocalsInit]
    private static void Depthwise5x5Avx2(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft, int wp, int band,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        Span<short> plane = stackalloc short[PlaneBytes];
        Span<byte> outBuf = stackalloc byte[PlaneBytes];
        band = Math.Min(band, oh);
        int rowsIn = stride == 1 ? band + 4 : 2 * band + 3;
        // Filled once: row copies write input values at the data positions only (narrow rows: xZero past the width), and
        // rows outside the image are refilled with xZero below, so every padding position holds xZero for all channels.
        plane.Slice(0, rowsIn * wp + 96).Fill((short)xZero);
        var xzBytes = Vector128.Create((byte)xZero);
        var rowMask = Sse2.CompareGreaterThan(Vector128.Create((sbyte)Math.Min(width, 16)), Vector128.Create((sbyte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)).AsByte();
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        ref short p0 = ref MemoryMarshal.GetReference(plane);
        ref byte o0 = ref MemoryMarshal.GetReference(outBuf);
        Span<Vector256<short>> pairs = stackalloc Vector256<short>[30];        // per kernel row: 3 even pairs, 3 odd pairs
        int ow16 = (ow + 15) & ~15;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int xOff = (b * c + ch) * h * width, yOff = (b * c + ch) * oh * ow;
                var wc = w.Slice(ch * 25, 25);
                int sumW = 0;
                for (int t = 0; t < 25; t++) sumW += wc[t];
                for (int ky = 0; ky < 5; ky++)
                {
                    int r = ky * 5;
                    pairs[ky * 6 + 0] = Pair(wc[r], wc[r + 1]); pairs[ky * 6 + 1] = Pair(wc[r + 2], wc[r + 3]); pairs[ky * 6 + 2] = Pair(wc[r + 4], 0);
                    pairs[ky * 6 + 3] = Pair(0, wc[r]); pairs[ky * 6 + 4] = Pair(wc[r + 1], wc[r + 2]); pairs[ky * 6 + 5] = Pair(wc[r + 3], wc[r + 4]);
                }
                int pi = multiplier.Length == 1 ? 0 : ch;
                // The folded sum equals sum (x - z) w + bias: |acc| <= |bias| + 25 * 255 * 127.
                var rq = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax, Math.Abs((long)(bias.IsEmpty ? 0 : bias[ch])) + 25 * MaxTap);
                var bv = Vector256.Create((bias.IsEmpty ? 0 : bias[ch]) - xZero * sumW);
                for (int oy0 = 0; oy0 < oh; oy0 += band)
                {
                    int rows = Math.Min(band, oh - oy0);
                    int iyFirst = oy0 * stride - padTop, inRows = stride == 1 ? rows + 4 : 2 * rows + 3;
                    for (int r = 0; r < inRows; r++)
                    {
                        int iy = iyFirst + r;
                        ref short dst = ref Unsafe.Add(ref p0, r * wp + padLeft);
                        if ((uint)iy < (uint)h)
                            CopyRowIn(ref Unsafe.Add(ref x0, xOff + iy * width), ref dst, width, x.Length - (xOff + iy * width), rowMask, xzBytes);
                        else MemoryMarshal.CreateSpan(ref dst, width).Fill((short)xZero);
                    }
                    if (stride == 1)
                    {
                        int count = (rows - 1) * wp + ow;
                        for (int q = 0; q < count; q += 16)
                        {
                            var ev = bv; var od = bv;
                            for (int ky = 0; ky < 5; ky++)
                            {
                                ref short rr = ref Unsafe.Add(ref p0, q + ky * wp);
                                var a0 = Vector256.LoadUnsafe(ref rr); var a1 = Vector256.LoadUnsafe(ref rr, 2); var a2 = Vector256.LoadUnsafe(ref rr, 4);
                                ref Vector256<short> pw = ref pairs[ky * 6];
                                ev = Avx2.Add(ev, Avx2.Add(Avx2.Add(Avx2.MultiplyAddAdjacent(a0, pw), Avx2.MultiplyAddAdjacent(a1, Unsafe.Add(ref pw, 1))),
                                    Avx2.MultiplyAddAdjacent(a2, Unsafe.Add(ref pw, 2))));
                                od = Avx2.Add(od, Avx2.Add(Avx2.Add(Avx2.MultiplyAddAdjacent(a0, Unsafe.Add(ref pw, 3)), Avx2.MultiplyAddAdjacent(a1, Unsafe.Add(ref pw, 4))),
                                    Avx2.MultiplyAddAdjacent(a2, Unsafe.Add(ref pw, 5))));
                            }
                            // Both in [0, 255]: (even | odd << 16) as int16 is e0 o0 e1 o1 ..., packed to 16 bytes in output order.
                            var v = Avx2.Or(rq.Apply(ev), Avx2.ShiftLeftLogical(rq.Apply(od), 16)).AsInt16();
                            Sse2.PackUnsignedSaturate(v.GetLower(), v.GetUpper()).StoreUnsafe(ref o0, (nuint)q);
                        }
                        for (int oy = 0; oy < rows; oy++)
                            CopyRowOut(ref Unsafe.Add(ref o0, oy * wp), ref Unsafe.Add(ref y0, yOff + (oy0 + oy) * ow), ow, y.Length - (yOff + (oy0 + oy) * ow));
                    }
                    else
                    {
                        for (int oy = 0; oy < rows; oy++)
                        {
                            for (int ox = 0; ox < ow; ox += 16)
                            {
                                var lo = bv; var hi = bv;
                                for (int ky = 0; ky < 5; ky++)
                                {
                                    ref short rr = ref Unsafe.Add(ref p0, (2 * oy + ky) * wp + 2 * ox);
                                    ref Vector256<short> pw = ref pairs[ky * 6];
                                    lo = Avx2.Add(lo, Avx2.Add(Avx2.Add(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr), pw),
                                        Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr, 2), Unsafe.Add(ref pw, 1))),
                                        Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr, 4), Unsafe.Add(ref pw, 2))));
                                    hi = Avx2.Add(hi, Avx2.Add(Avx2.Add(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr, 16), pw),
                                        Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr, 18), Unsafe.Add(ref pw, 1))),
                                        Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref rr, 20), Unsafe.Add(ref pw, 2))));
                                }
                                Requantization.StoreBytesAvx2(rq.Apply(lo), ref Unsafe.Add(ref o0, oy * ow16 + ox));
                                Requantization.StoreBytesAvx2(rq.Apply(hi), ref Unsafe.Add(ref o0, oy * ow16 + ox + 8));
                            }
                            CopyRowOut(ref Unsafe.Add(ref o0, oy * ow16), ref Unsafe.Add(ref y0, yOff + (oy0 + oy) * ow), ow, y.Length - (yOff + (oy0 + oy) * ow));
                        }
                    }
                }
            }

        static Vector256<short> Pair(int w0, int w1) => Vector256.Create((int)((ushort)(short)w0 | (uint)(ushort)(short)w1 << 16)).AsInt16();
    }
}
